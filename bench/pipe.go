package bench

// Pipe runs the workload with the pipe package. (Placeholder until the pipe package lands.)
func Pipe(w Workload) error { return ErrNotImplemented }
