package jetstream_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/jetstream"
)

// worker is one consumer process of TestProcessesShareOneConsumer.
type worker struct {
	cmd      *exec.Cmd
	sink     string
	stderr   bytes.Buffer
	stats    chan jetstream.Stats // the final stats, once the process printed them
	progress chan int64           // processed counts as the process reports them
}

func startWorker(t *testing.T, url, dir string, i int) *worker {
	t.Helper()
	w := &worker{
		sink:     filepath.Join(dir, fmt.Sprintf("sink-%d.log", i)),
		stats:    make(chan jetstream.Stats, 1),
		progress: make(chan int64, 1024),
	}
	w.cmd = exec.Command(os.Args[0], "-test.run=^$")
	w.cmd.Env = append(os.Environ(), workerEnv+"=1", workerURLEnv+"="+url, workerSinkEnv+"="+w.sink)
	w.cmd.Stderr = &w.stderr
	out, err := w.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, w.cmd.Start())
	go w.readOutput(out)
	return w
}

// readOutput passes the process's progress and stats lines on; it ends with the process.
func (w *worker) readOutput(out io.Reader) {
	defer close(w.progress)
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		kind, rest, _ := strings.Cut(lines.Text(), " ")
		switch kind {
		case "progress":
			n, _ := strconv.ParseInt(rest, 10, 64)
			select {
			case w.progress <- n:
			default: // nobody is watching this process's progress
			}
		case "stats":
			var st jetstream.Stats
			if json.Unmarshal([]byte(rest), &st) == nil {
				w.stats <- st
			}
		}
	}
}

// recorder collects the sequences the workers announce having recorded, and closes all once it
// has every one of 1..n.
type recorder struct {
	mu   sync.Mutex
	seen map[uint64]bool
	n    int
	all  chan struct{}
}

func (r *recorder) handle(m *nats.Msg) {
	seq, err := strconv.ParseUint(string(m.Data), 10, 64)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq >= 1 && seq <= uint64(r.n) && !r.seen[seq] {
		r.seen[seq] = true
		if len(r.seen) == r.n {
			close(r.all)
		}
	}
}

// readSink reads a worker's sink file into records: stream sequence and event number. A last
// line without its newline (the process was killed while writing it) is not a record.
func readSink(t *testing.T, path string) (records [][2]uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for line := range strings.Lines(string(data)) {
		if !strings.HasSuffix(line, "\n") {
			break
		}
		var seq, n uint64
		_, err := fmt.Sscanf(line, "%d %d", &seq, &n)
		require.NoError(t, err, "sink line %q", line)
		records = append(records, [2]uint64{seq, n})
	}
	return records
}

// TestProcessesShareOneConsumer is acceptance test 1: 100k messages through three consumer
// processes (this test binary started again in worker mode) sharing one durable consumer of an
// embedded server; one process is killed with SIGKILL mid-run. The sink is one append-only file
// per process, each line written before the message is acknowledged; merged by stream sequence,
// the files are the idempotent sink: a sequence recorded twice (a redelivery after the kill) is
// one record. Every message must be recorded, with the right content; duplicates are counted and
// must be covered by redeliveries.
func TestProcessesShareOneConsumer(t *testing.T) {
	const n, processes, killAfter = 100_000, 3, 5 * progressEvery
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "store"), -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{AckWait: 2 * time.Second, MaxAckPending: 4000})
	rec := &recorder{seen: make(map[uint64]bool, n), n: n, all: make(chan struct{})}
	sub, err := nc.Subscribe(recordedSubject, rec.handle)
	require.NoError(t, err)
	require.NoError(t, sub.SetPendingLimits(-1, -1))
	require.NoError(t, nc.Flush())
	start := time.Now()
	publish(t, js, n, 1000)
	published := time.Since(start)

	workers := make([]*worker, processes)
	for i := range workers {
		workers[i] = startWorker(t, s.ClientURL(), dir, i)
	}
	t.Cleanup(func() {
		for _, w := range workers {
			_ = w.cmd.Process.Kill()
			_ = w.cmd.Wait()
		}
	})
	victim := workers[0]
	for p := range victim.progress {
		if p >= killAfter {
			require.NoError(t, victim.cmd.Process.Kill()) // SIGKILL
			break
		}
	}
	select {
	case <-rec.all:
	case <-time.After(3 * time.Minute):
		t.Fatalf("after 3 minutes %d of %d messages recorded", len(rec.seen), n)
	}
	processedIn := time.Since(start) - published

	var redelivered int64
	for _, w := range workers[1:] {
		require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, w.cmd.Wait(), "worker stderr: %s", w.stderr.String())
		st := receive(t, w.stats)
		redelivered += st.Redelivered
		assert.Equal(t, st.Received, st.Processed, "a graceful stop settles all it received")
	}
	require.Error(t, victim.cmd.Wait(), "the victim was killed")

	records := 0
	count := make(map[uint64]int, n)
	for _, w := range workers {
		for _, r := range readSink(t, w.sink) {
			require.Equal(t, r[0]-1, r[1], "sequence %d recorded with its own event", r[0])
			count[r[0]]++
			records++
		}
	}
	assert.Len(t, count, n, "every message recorded")
	duplicates := records - len(count)
	assert.Positive(t, redelivered, "the victim's unacknowledged messages were redelivered")
	assert.LessOrEqual(t, int64(duplicates), redelivered, "a duplicate needs a redelivery")
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
	t.Logf("%d messages: published in %v, processed in %v (%.0f msg/s) by %d processes, one killed; "+
		"%d redelivered, %d recorded twice", n, published.Round(time.Millisecond),
		processedIn.Round(time.Millisecond), n/processedIn.Seconds(), processes, redelivered, duplicates)
}
