package jetstream_test

const workerEnv = "STAGECOACH_JETSTREAM_WORKER"

func workerMain() int { return 0 }
