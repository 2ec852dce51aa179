// Command chat runs a short conversation through the chat example's four stages twice, as a
// pipe pipeline and as an fsm machine on a group router with a serial group per room, and
// prints the transcript and whether the two designs agree.
//
//	cd examples && go run ./chat/cmd/chat
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/stagecoach-go/stagecoach/examples/chat"
)

var conversation = []chat.Message{
	{Room: "general", User: "ana", Text: "morning all"},
	{Room: "ops", User: "bo", Text: "deploy is done, no darn alerts"},
	{Room: "general", User: "cy", Text: "who broke the build, heck?"},
	{Room: "ops", User: "ana", Text: "thanks bo"},
	{Room: "general", User: "bo", Text: "not me! Darn it"},
}

func main() { os.Exit(run(os.Stdout)) }

func run(w io.Writer) int {
	ctx := context.Background()
	viaPipe, viaGroup := chat.New("darn", "heck"), chat.New("darn", "heck")
	if err := chat.RunPipe(ctx, viaPipe, conversation); err != nil {
		fmt.Fprintln(w, "pipe:", err)
		return 1
	}
	if err := chat.RunGroup(ctx, viaGroup, conversation, 4); err != nil {
		fmt.Fprintln(w, "group:", err)
		return 1
	}
	fmt.Fprint(w, viaPipe.Transcript())
	fmt.Fprintln(w, "pipe and fsm + group give the same transcript:", viaPipe.Transcript() == viaGroup.Transcript())
	return 0
}
