package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out strings.Builder
	assert.Equal(t, 0, run(&out))
	assert.Contains(t, out.String(), "[general#2] cy: who broke the build, ****?\n")
	assert.Contains(t, out.String(), "the same transcript: true\n")
}
