package bench

// Group runs the workload with the group package. (Placeholder until the group package lands.)
func Group(w Workload) error { return ErrNotImplemented }
