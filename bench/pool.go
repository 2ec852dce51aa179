package bench

// Pool runs the workload with the pool package. (Placeholder until the pool package lands.)
func Pool(w Workload) error { return ErrNotImplemented }
