package group

// MaxQuantum is the most items a worker takes from one group at once.
const MaxQuantum = maxQuantum
