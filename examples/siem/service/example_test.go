package service_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// A POST /events body is a JSON array or NDJSON; it is checked whole before any event runs.
func ExampleParseEvents() {
	body := `{"type":"login_failed","severity":8,"message":"5 failed logins","ref":"a-1"}
{"type":"port_scan","severity":3,"message":"1024 ports in 2 s"}`
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) // when the request was received
	ins, err := service.ParseEvents(strings.NewReader(body), 1000, now)
	fmt.Println(len(ins), err)
	for _, in := range ins {
		fmt.Println(in.Type, *in.Severity, service.Level(*in.Severity))
	}

	_, err = service.ParseEvents(strings.NewReader(`[{"type":"x","severity":1}]`), 1000, now)
	fmt.Println(err)
	_, err = service.ParseEvents(strings.NewReader(`{"type":"x\r\nBcc: a@b.example","severity":1,"message":"m"}`), 1000, now)
	fmt.Println(err)
	_, err = service.ParseEvents(strings.NewReader(`{"type":"x","severity":1,"message":"m","time":"0001-01-01T00:00:00Z"}`), 1000, now)
	fmt.Println(err)
	// Output:
	// 2 <nil>
	// login_failed 8 high
	// port_scan 3 low
	// event 0: missing required field "message"
	// event 0: field "type" has the character U+000D at byte 1: control and bidirectional formatting characters are not allowed
	// event 0: field "time" is 0001-01-01T00:00:00Z, more than 720h0m0s before the event was received

}

func ExampleLevel() {
	for _, s := range []int{0, 4, 7, 9} {
		fmt.Println(s, service.Level(s))
	}
	// Output:
	// 0 low
	// 4 medium
	// 7 high
	// 9 critical
}

// A service on a free port of 127.0.0.1 until ctx ends (compile-only: it listens).
func Example_serve() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	svc, err := service.New(ctx, service.Config{DB: "siem.db", Design: service.DesignGroup})
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(errors.Join(err, svc.Close(ctx)))
		return
	}
	fmt.Println("dashboard: http://" + ln.Addr().String() + "/")
	if key := svc.DemoKey(); key != "" {
		fmt.Println("demo key:", key)
	}
	if err := svc.Serve(ctx, ln); err != nil { // returns after ctx ends and everything stopped
		fmt.Println(err)
	}
}
