package chat_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/examples/chat"
	"github.com/stagecoach-go/stagecoach/fsm"
)

var vocab = []string{"hello", "Darn", "darn", "darning", "ship", "it", "heck", "HECK", "checked", "ok"}

func genMessage() *rapid.Generator[chat.Message] {
	return rapid.Custom(func(t *rapid.T) chat.Message {
		words := rapid.SliceOfN(rapid.SampledFrom(vocab), 1, 6).Draw(t, "words")
		return chat.Message{
			Room: rapid.SampledFrom([]string{"a", "b", "c", "d"}).Draw(t, "room"),
			User: rapid.SampledFrom([]string{"ana", "bo", "cy"}).Draw(t, "user"),
			Text: strings.Join(words, rapid.SampledFrom([]string{" ", ", ", "! "}).Draw(t, "sep")),
		}
	})
}

// Both designs: the same transcript; each room's messages persisted in input order, numbered
// 1..n; no banned word left, and nothing else changed.
func TestDesignsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := rapid.SliceOfN(genMessage(), 1, 60).Draw(t, "messages")
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		viaPipe, viaGroup := chat.New("darn", "heck"), chat.New("darn", "heck")
		require.NoError(t, chat.RunPipe(context.Background(), viaPipe, msgs))
		require.NoError(t, chat.RunGroup(context.Background(), viaGroup, msgs, workers))
		assert.Equal(t, viaPipe.Transcript(), viaGroup.Transcript())

		byRoom := map[string][]chat.Message{}
		for _, m := range msgs {
			byRoom[m.Room] = append(byRoom[m.Room], m)
		}
		for room, in := range byRoom {
			for _, s := range []*chat.Stages{viaPipe, viaGroup} {
				log := s.Log(room)
				require.Len(t, log, len(in))
				for i, m := range log {
					assert.Equal(t, i+1, m.Seq)
					assert.Equal(t, in[i].User, m.User, "room %s keeps its order", room)
					assert.Equal(t, clean(in[i].Text), m.Text)
				}
			}
		}
	})
}

// clean is the test's own model of censoring: banned words (any case, whole) become asterisks.
func clean(text string) string {
	var b, word strings.Builder
	flush := func() {
		w := word.String()
		if l := strings.ToLower(w); l == "darn" || l == "heck" {
			w = strings.Repeat("*", len(w))
		}
		b.WriteString(w)
		word.Reset()
	}
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			word.WriteRune(r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}

// A stage error: pipe stops at the first one; group fails that message alone.
func TestStageError(t *testing.T) {
	msgs := []chat.Message{{Room: "a", User: "ana", Text: "one"}, {Room: "a", Text: "no user"}, {Room: "a", User: "bo", Text: "three"}}
	viaPipe := chat.New()
	err := chat.RunPipe(context.Background(), viaPipe, msgs)
	assert.ErrorContains(t, err, `chat: message "no user" without room or user`)

	viaGroup := chat.New()
	err = chat.RunGroup(context.Background(), viaGroup, msgs, 2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `chat: message "no user" without room or user`)
	assert.Len(t, viaGroup.Log("a"), 2, "the other messages went through")

	err = chat.RunGroup(context.Background(), chat.New(), []chat.Message{{Room: "", User: "x", Text: "y"}}, 1)
	var se *fsm.StateError[chat.State]
	require.True(t, errors.As(err, &se), "the stage's error, wrapped with its state: %v", err)
	assert.Equal(t, chat.Stamp, se.State)
}
