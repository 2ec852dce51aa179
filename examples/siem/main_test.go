package main

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// runMainEnv, when set, makes the test binary run the command itself with these arguments
// (separated by runMainSep): the SIGTERM test starts the service as a real process this way.
const (
	runMainEnv = "SIEM_TEST_RUN_MAIN"
	runMainSep = "\x1f"
)

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(runMainEnv); ok {
		os.Exit(run(strings.Split(args, runMainSep), os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
