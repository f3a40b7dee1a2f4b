package chaos

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Tally counts runs per scenario and outcome.
type Tally struct {
	order []string
	rows  map[string]*tallyRow
}

type tallyRow struct {
	runs, violated int
	outcomes       map[Outcome]int
}

// Add counts one run.
func (t *Tally) Add(r Result) {
	if t.rows == nil {
		t.rows = map[string]*tallyRow{}
	}
	row, ok := t.rows[r.Scenario]
	if !ok {
		row = &tallyRow{outcomes: map[Outcome]int{}}
		t.rows[r.Scenario] = row
		t.order = append(t.order, r.Scenario)
	}
	row.runs++
	row.outcomes[r.Outcome()]++
	if len(r.Violations) > 0 {
		row.violated++
	}
}

// Violations is the number of runs with a broken invariant.
func (t *Tally) Violations() int {
	n := 0
	for _, row := range t.rows {
		n += row.violated
	}
	return n
}

// Broken is the number of runs that could not be carried out.
func (t *Tally) Broken() int {
	n := 0
	for _, row := range t.rows {
		n += row.outcomes[Broken]
	}
	return n
}

// Write prints the table: one line per scenario, in the order first run,
// and a total.
func (t *Tally) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\truns\tsucceeded\trolled back\tfailed\tunfinished\tbroken\tviolations\t")
	total := tallyRow{outcomes: map[Outcome]int{}}
	for _, name := range t.order {
		row := t.rows[name]
		writeRow(tw, name, row)
		total.runs += row.runs
		total.violated += row.violated
		for o, n := range row.outcomes {
			total.outcomes[o] += n
		}
	}
	writeRow(tw, "total", &total)
	return tw.Flush()
}

func writeRow(w io.Writer, name string, row *tallyRow) {
	o := row.outcomes
	fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, row.runs, o[Succeeded], o[RolledBack], o[Failed], o[Unfinished], o[Broken], row.violated)
}
