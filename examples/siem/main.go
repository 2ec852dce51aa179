package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// passwordEnv holds the NATS password for -nats-user: an environment variable, not a flag, so
// that it does not show in the process list.
const passwordEnv = "SIEM_NATS_PASSWORD"

// run is the whole command; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	var (
		fl        = flag.NewFlagSet("siem", flag.ContinueOnError)
		addr      = fl.String("addr", "127.0.0.1:8080", "address to listen on")
		cfg       service.Config
		newKey    = fl.Bool("new-key", false, "issue and print another API key for the demo account")
		smtpAddr  = fl.String("smtp-addr", "", "SMTP server host:port; when set, alerts are mailed (from the outbox, retried until delivered)")
		smtpFrom  = fl.String("smtp-from", "siem@localhost", "sender of alert mails")
		smtpTo    = fl.String("smtp-to", "", "comma-separated recipients of alert mails")
		maxBodyKi = fl.Int64("max-body", 1024, "largest POST /events body, KiB")
		quiet     = fl.Bool("q", false, "log errors only, not every alert")
		hosts     = fl.String("host", "", "other Host values to serve (comma-separated host:port), besides the listen address")
		profile   = fl.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	)
	fl.SetOutput(stderr)
	fl.StringVar(&cfg.DB, "db", "siem.db", "SQLite database file (created if missing)")
	fl.StringVar(&cfg.Design, "design", service.DesignGroup, "group (fsm + group.Router) or pipe (a channel per stage, a reply channel per event)")
	fl.StringVar(&cfg.NATS, "nats", "", "NATS server URL(s): publish events to a JetStream stream and process those this instance takes from it")
	fl.StringVar(&cfg.NATSUser, "nats-user", "", "with -nats: the NATS user (its password in $"+passwordEnv+"), unless the URL has user:password@")
	fl.StringVar(&cfg.Stream, "stream", service.DefaultStream, "with -nats: the events stream (created if missing)")
	fl.StringVar(&cfg.Consumer, "consumer", service.DefaultConsumer, "with -nats: the durable consumer all instances share (created if missing)")
	fl.IntVar(&cfg.Workers, "workers", 0, "group: router workers (default 128); pipe: goroutines per stage (default 32)")
	fl.DurationVar(&cfg.MaxWait, "max-wait", 0, "group: longest an event may wait for a worker before it fails unstored (default 2s; negative: no limit)")
	threshold := fl.Int("threshold", 8, "alert at or above this severity (0-10; 0 alerts on every event)")
	fl.IntVar(&cfg.MaxEvents, "max-events", 1000, "most events in one request")
	fl.StringVar(&cfg.SQLite, "sqlite", service.Batch, "SQLite writes: batch (group commit on one writer), one-writer or wal-pool")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *threshold < service.MinSeverity || *threshold > service.MaxSeverity {
		fmt.Fprintf(stderr, "siem: -threshold %d: want %d to %d\n", *threshold, service.MinSeverity, service.MaxSeverity)
		return 2
	}
	cfg.AlertThreshold = *threshold
	if *threshold == 0 {
		cfg.AlertThreshold = -1 // Config's zero means its default
	}
	cfg.NATSPassword = os.Getenv(passwordEnv)
	if *hosts != "" {
		cfg.Hosts = strings.Split(*hosts, ",")
	}
	cfg.MaxBody = *maxBodyKi << 10
	level := slog.LevelWarn // alerts are logged at Warn
	if *quiet {
		level = slog.LevelError
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *smtpAddr != "" {
		cfg.SMTP = &service.SMTPNotifier{Addr: *smtpAddr, From: *smtpFrom, To: strings.Split(*smtpTo, ",")}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "siem:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := serve(ctx, *addr, cfg, *newKey, stdout); err != nil {
		fmt.Fprintln(stderr, "siem:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, addr string, cfg service.Config, newKey bool, stdout io.Writer) error {
	// Listen first: a port in use fails the start before the database is created, and a
	// demo key is made only by a start that goes on to serve.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, cfg)
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	key := svc.DemoKey()
	if key == "" && newKey {
		id, err := svc.DemoAccountID(ctx)
		if err == nil {
			key, err = svc.NewKey(ctx, id)
		}
		if err != nil {
			return errors.Join(err, ln.Close(), svc.Close(ctx))
		}
	}
	url := "http://" + ln.Addr().String()
	if cfg.NATS != "" {
		fmt.Fprintf(stdout, "siem: jetstream mode, stream %s, consumer %s on %s, database %s\n", cfg.Stream, cfg.Consumer, service.RedactURL(cfg.NATS), cfg.DB)
	} else {
		fmt.Fprintf(stdout, "siem: %s design, database %s\n", cfg.Design, cfg.DB)
	}
	fmt.Fprintf(stdout, "dashboard: %s/\n", url)
	if key != "" {
		fmt.Fprintf(stdout, "demo API key (shown once; only its hash is stored): %s\n", key)
		fmt.Fprintf(stdout, "try: curl -N -H 'Authorization: Bearer %s' --data-binary '{\"type\":\"login_failed\",\"severity\":8,\"message\":\"5 failed logins\"}' %s/events\n", key, url)
	} else {
		fmt.Fprintln(stdout, "demo API key: printed at the first start (-new-key issues another)")
	}
	err = svc.Serve(ctx, ln)
	fmt.Fprintln(stdout, "siem: stopped")
	return err
}
