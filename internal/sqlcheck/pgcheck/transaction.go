package pgcheck

import (
	"fmt"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
)

// TxFacts is what one statement's parse tree says about transactions: the
// executor's and the plan's decision of how a script runs are made from it,
// so both say the same.
type TxFacts struct {
	// NoTx names the command when PostgreSQL refuses to run it inside a
	// transaction block (CREATE INDEX CONCURRENTLY, VACUUM...).
	NoTx string
	// Control: BEGIN, COMMIT, SAVEPOINT... written in the script; Begins
	// opens a block, Ends closes one.
	Control, Begins, Ends bool
	// Start is the statement's first words, for messages.
	Start string
}

// TxFactsOf reads the facts from one statement's parse tree.
func TxFactsOf(n *pgquery.Node) TxFacts {
	f := TxFacts{NoTx: noTxCommand(n)}
	if t := n.GetTransactionStmt(); t != nil {
		f.Control = true
		f.Begins = t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_BEGIN ||
			t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_START
		f.Ends = t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_COMMIT ||
			t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_ROLLBACK ||
			t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_PREPARE
	}
	return f
}

// Transactional reports whether a script of these statements runs inside
// one transaction block, and why not otherwise: a script that controls its
// own transactions runs as written, and one with a statement PostgreSQL
// refuses in a block runs statement by statement.
func Transactional(facts []TxFacts) (bool, string) {
	for i, f := range facts {
		if f.Control {
			return false, fmt.Sprintf("the script controls its own transactions (statement %d: %s): running its statements as written",
				i+1, f.Start)
		}
	}
	for i, f := range facts {
		if f.NoTx != "" {
			return false, fmt.Sprintf("%s (statement %d) cannot run in a transaction block: running the script statement by statement",
				f.NoTx, i+1)
		}
	}
	return true, ""
}

// InTransactions reports, for each statement, whether it runs inside a
// transaction: all of them when the script is transactional; those between
// the script's own BEGIN and COMMIT when it controls its transactions; none
// otherwise. why says why not all (see Transactional).
func (Checker) InTransactions(statements []string) (inTx []bool, why string, err error) {
	facts := make([]TxFacts, len(statements))
	for i, text := range statements {
		tree, err := pgquery.Parse(text)
		if err != nil {
			return nil, "", fmt.Errorf("statement %d: %w", i+1, err)
		}
		for _, raw := range tree.GetStmts() {
			f := TxFactsOf(raw.GetStmt())
			f.Start = FirstWords(text)
			facts[i] = f
		}
	}
	all, why := Transactional(facts)
	inTx = make([]bool, len(facts))
	open := false
	for i, f := range facts {
		inTx[i] = all || (open && !f.Control) || f.Begins || f.Ends
		open = (open || f.Begins) && !f.Ends
	}
	return inTx, why, nil
}

// FirstWords returns the first four words of a statement, its "--"
// comment lines left out, for messages.
func FirstWords(sql string) string {
	var words []string
	for _, line := range strings.Split(sql, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		words = append(words, strings.Fields(line)...)
		if len(words) >= 4 {
			return strings.Join(words[:4], " ")
		}
	}
	return strings.Join(words, " ")
}

// noTxCommand names the command n runs when PostgreSQL refuses to run it
// inside a transaction block, and returns "" otherwise.
func noTxCommand(n *pgquery.Node) string {
	for _, check := range []func(*pgquery.Node) string{noTxIndex, noTxMaintenance, noTxCluster, noTxAlter} {
		if name := check(n); name != "" {
			return name
		}
	}
	return ""
}

// noTxIndex covers CREATE/DROP/REINDEX ... CONCURRENTLY, REINDEX SYSTEM and
// REINDEX DATABASE.
func noTxIndex(n *pgquery.Node) string {
	switch {
	case n.GetIndexStmt().GetConcurrent():
		return "CREATE INDEX CONCURRENTLY"
	case n.GetDropStmt().GetConcurrent():
		return "DROP INDEX CONCURRENTLY"
	}
	r := n.GetReindexStmt()
	if r == nil {
		return ""
	}
	if on, found := defBool(r.GetParams(), "concurrently"); found && on {
		return "REINDEX CONCURRENTLY"
	}
	if k := r.GetKind(); k == pgquery.ReindexObjectType_REINDEX_OBJECT_SYSTEM || k == pgquery.ReindexObjectType_REINDEX_OBJECT_DATABASE {
		return "REINDEX " + strings.TrimPrefix(k.String(), "REINDEX_OBJECT_")
	}
	return ""
}

// noTxMaintenance covers VACUUM, databases, tablespaces and ALTER SYSTEM.
func noTxMaintenance(n *pgquery.Node) string {
	switch {
	case n.GetVacuumStmt().GetIsVacuumcmd():
		return "VACUUM"
	case n.GetCreatedbStmt() != nil:
		return "CREATE DATABASE"
	case n.GetDropdbStmt() != nil:
		return "DROP DATABASE"
	case n.GetAlterSystemStmt() != nil:
		return "ALTER SYSTEM"
	case n.GetCreateTableSpaceStmt() != nil:
		return "CREATE TABLESPACE"
	case n.GetDropTableSpaceStmt() != nil:
		return "DROP TABLESPACE"
	}
	if opts := n.GetAlterDatabaseStmt().GetOptions(); len(opts) > 0 {
		if _, found := defOption(opts, "tablespace"); found {
			return "ALTER DATABASE SET TABLESPACE"
		}
	}
	return ""
}

// noTxCluster covers CLUSTER without a table and the subscription commands
// that create, drop or refresh a replication slot or table copies.
func noTxCluster(n *pgquery.Node) string {
	if c := n.GetClusterStmt(); c != nil && c.GetRelation() == nil {
		return "CLUSTER without a table"
	}
	if c := n.GetCreateSubscriptionStmt(); c != nil {
		if off(c.GetOptions(), "connect") || off(c.GetOptions(), "create_slot") {
			return ""
		}
		return "CREATE SUBSCRIPTION"
	}
	if n.GetDropSubscriptionStmt() != nil {
		return "DROP SUBSCRIPTION"
	}
	a := n.GetAlterSubscriptionStmt()
	switch a.GetKind() {
	case pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_REFRESH:
		return "ALTER SUBSCRIPTION ... REFRESH PUBLICATION"
	case pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_SET_PUBLICATION,
		pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_ADD_PUBLICATION,
		pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_DROP_PUBLICATION:
		if !off(a.GetOptions(), "refresh") {
			return "ALTER SUBSCRIPTION ... PUBLICATION with refresh"
		}
	}
	return ""
}

// noTxAlter covers ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY.
func noTxAlter(n *pgquery.Node) string {
	for _, c := range n.GetAlterTableStmt().GetCmds() {
		cmd := c.GetAlterTableCmd()
		if cmd.GetSubtype() == pgquery.AlterTableType_AT_DetachPartition && cmd.GetDef().GetPartitionCmd().GetConcurrent() {
			return "DETACH PARTITION CONCURRENTLY"
		}
	}
	return ""
}

// off reports whether the option name is given and false.
func off(opts []*pgquery.Node, name string) bool {
	on, found := defBool(opts, name)
	return found && !on
}

// defBool reads a boolean option: a bare option is true.
func defBool(opts []*pgquery.Node, name string) (on, found bool) {
	arg, found := defOption(opts, name)
	if !found {
		return false, false
	}
	if arg == nil {
		return true, true
	}
	if b := arg.GetBoolean(); b != nil {
		return b.GetBoolval(), true
	}
	if i := arg.GetInteger(); i != nil {
		return i.GetIval() != 0, true
	}
	switch strings.ToLower(arg.GetString_().GetSval()) {
	case "false", "off", "no", "0":
		return false, true
	}
	return true, true
}

// defOption finds option name among opts and returns its argument.
func defOption(opts []*pgquery.Node, name string) (*pgquery.Node, bool) {
	for _, o := range opts {
		if d := o.GetDefElem(); d != nil && strings.EqualFold(d.GetDefname(), name) {
			return d.GetArg(), true
		}
	}
	return nil, false
}
