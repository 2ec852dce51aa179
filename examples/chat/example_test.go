package chat_test

import (
	"context"
	"fmt"

	"github.com/stagecoach-go/stagecoach/examples/chat"
)

var conversation = []chat.Message{
	{Room: "general", User: "ana", Text: "morning all"},
	{Room: "ops", User: "bo", Text: "deploy is done, no darn alerts"},
	{Room: "general", User: "cy", Text: "who broke the build, heck?"},
	{Room: "ops", User: "ana", Text: "thanks bo"},
	{Room: "general", User: "bo", Text: "not me! Darn it"},
}

// The same stage funcs through pipe and through fsm + group give the same transcript.
func Example() {
	viaPipe := chat.New("darn", "heck")
	if err := chat.RunPipe(context.Background(), viaPipe, conversation); err != nil {
		fmt.Println(err)
	}
	viaGroup := chat.New("darn", "heck")
	if err := chat.RunGroup(context.Background(), viaGroup, conversation, 4); err != nil {
		fmt.Println(err)
	}
	fmt.Print(viaPipe.Transcript())
	fmt.Println("same transcript:", viaPipe.Transcript() == viaGroup.Transcript())
	// Output:
	// [general#1] ana: morning all
	// [general#2] cy: who broke the build, ****?
	// [general#3] bo: not me! **** it
	// [ops#1] bo: deploy is done, no **** alerts
	// [ops#2] ana: thanks bo
	// same transcript: true
}

func ExampleStages_Censor() {
	m, _ := chat.New("heck").Censor(context.Background(), chat.Message{Text: "Heck, checked: heck!"})
	fmt.Println(m.Text)
	// Output: ****, checked: ****!
}
