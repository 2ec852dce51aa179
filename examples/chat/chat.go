package chat

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Message is a chat message on its way through the stages.
type Message struct {
	Room string
	User string
	Text string
	Seq  int    // position in its room, from 1; set by Stamp
	ID   string // "room#seq"; set by Stamp
}

// Stages holds the chat's four stages and what they share. The zero value is not usable: build
// it with New.
type Stages struct {
	banned []string

	mu   sync.Mutex
	seqs map[string]int // last sequence number by room
	log  map[string][]Message
	outs map[string]*strings.Builder // what each room's members received
}

// New returns the stages with a list of banned words (matched whole, ignoring case).
func New(banned ...string) *Stages {
	b := make([]string, len(banned))
	for i, w := range banned {
		b[i] = strings.ToLower(w)
	}
	return &Stages{banned: b, seqs: map[string]int{}, log: map[string][]Message{}, outs: map[string]*strings.Builder{}}
}

// Censor replaces every banned word of the text with asterisks of its length.
func (s *Stages) Censor(_ context.Context, m Message) (Message, error) {
	words := strings.FieldsFunc(m.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		for _, b := range s.banned {
			if strings.ToLower(w) == b {
				m.Text = replaceWord(m.Text, w, strings.Repeat("*", len(w)))
			}
		}
	}
	return m, nil
}

// replaceWord replaces whole-word occurrences of w in text.
func replaceWord(text, w, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, w)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		j := i + len(w)
		whole := (i == 0 || !isWordByte(text[i-1])) && (j == len(text) || !isWordByte(text[j]))
		b.WriteString(text[:i])
		if whole {
			b.WriteString(with)
		} else {
			b.WriteString(w)
		}
		text = text[j:]
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// Stamp adds the metadata: the message's sequence number in its room and its id. Messages of
// one room must reach it in order (one at a time) for the numbers to follow that order.
func (s *Stages) Stamp(_ context.Context, m Message) (Message, error) {
	if m.Room == "" || m.User == "" {
		return m, fmt.Errorf("chat: message %q without room or user", m.Text)
	}
	s.mu.Lock()
	s.seqs[m.Room]++
	m.Seq = s.seqs[m.Room]
	s.mu.Unlock()
	m.ID = fmt.Sprintf("%s#%d", m.Room, m.Seq)
	return m, nil
}

// Persist appends the message to its room's log.
func (s *Stages) Persist(_ context.Context, m Message) (Message, error) {
	s.mu.Lock()
	s.log[m.Room] = append(s.log[m.Room], m)
	s.mu.Unlock()
	return m, nil
}

// Distribute delivers the message to the room's members (here: the room's output).
func (s *Stages) Distribute(_ context.Context, m Message) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, ok := s.outs[m.Room]
	if !ok {
		out = &strings.Builder{}
		s.outs[m.Room] = out
	}
	fmt.Fprintf(out, "[%s] %s: %s\n", m.ID, m.User, m.Text)
	return m, nil
}

// Transcript returns what every room received, rooms in name order.
func (s *Stages) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make([]string, 0, len(s.outs))
	for r := range s.outs {
		rooms = append(rooms, r)
	}
	sort.Strings(rooms)
	var b strings.Builder
	for _, r := range rooms {
		b.WriteString(s.outs[r].String())
	}
	return b.String()
}

// Log returns the persisted messages of a room, in order.
func (s *Stages) Log(room string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.log[room]...)
}
