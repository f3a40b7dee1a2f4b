package domain

// Plan is the steps of an execution, in phases, with why they are in that
// order. The planner makes it; the API shows it before and at execute time.
type Plan struct {
	Strategy    Strategy    `json:"strategy"`
	Phases      []PhaseView `json:"phases"`
	Steps       []Step      `json:"steps"`
	Explanation []string    `json:"explanation"`
}
