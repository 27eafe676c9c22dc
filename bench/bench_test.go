package bench

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/bank"
)

const pgbenchTransferOut = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: transfer.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 2
maximum number of tries: 31
duration: 10 s
number of transactions actually processed: 10497
number of failed transactions: 2 (0.019%)
number of serialization failures: 2 (0.019%)
number of deadlock failures: 0 (0.000%)
number of transactions retried: 86 (0.819%)
total number of retries: 102
latency average = 7.532 ms
initial connection time = 142.246 ms
tps = 1062.202656 (without initial connection time)
`

const pgbenchConnectOut = `transaction type: select.sql
number of transactions actually processed: 390
latency average = 205.323 ms
average connection time = 190.003 ms
tps = 38.598506 (including reconnection times)
`

func TestParsePgbench(t *testing.T) {
	r, err := parsePgbench(pgbenchTransferOut)
	if err != nil {
		t.Fatal(err)
	}
	want := pgbenchResult{TPS: 1062.202656, Processed: 10497, Failed: 2, Retried: 86, Retries: 102}
	if r != want {
		t.Fatalf("got %+v, want %+v", r, want)
	}
	r, err = parsePgbench(pgbenchConnectOut)
	if err != nil || r.TPS != 38.598506 || r.Processed != 390 || r.AvgConnMs != 190.003 {
		t.Fatalf("-C output: %+v, %v", r, err)
	}
	if _, err := parsePgbench("pgbench: error: connection to server failed\n"); err == nil {
		t.Fatal("an output without a tps line must be an error")
	}
}

func TestParseLogKeepsCommittedLatencies(t *testing.T) {
	log := strings.Join([]string{
		"0 1 2241 0 1175850568 995598 150 0", // --rate adds the lag, --max-tries the retries
		"1 1 failed 0 1175850568 998079 20 30",
		"1 2 serialization 0 1175850569 608 10 30",
		"0 2 skipped 0 1175850569 2663 5000 0",
		"",
		"0 3 9000 0 1175850569 9663 7000 2",
	}, "\n")
	got, err := parseLog(strings.NewReader(log), nil)
	if err != nil || !slices.Equal(got, []int64{2241, 9000}) {
		t.Fatalf("got %v, %v; want [2241 9000]", got, err)
	}
	if _, err := parseLog(strings.NewReader("0 1 2241\n"), nil); err == nil {
		t.Fatal("a short line must be an error")
	}
}

func TestPercentileNearestRank(t *testing.T) {
	vs := make([]int64, 0, 1000)
	for i := 1000; i >= 1; i-- {
		vs = append(vs, int64(i))
	}
	if p := percentile(vs, 99); p != 990 {
		t.Fatalf("p99 of 1..1000 = %d, want 990", p)
	}
	if p := percentile([]int64{7}, 99); p != 7 {
		t.Fatalf("p99 of one value = %d", p)
	}
	if p := percentile(nil, 99); p != 0 {
		t.Fatalf("p99 of nothing = %d", p)
	}
}

func TestSpreadOf(t *testing.T) {
	s := spreadOf([]float64{1.2, math.NaN(), 0.8, 1.0, math.Inf(1)})
	if s != (spread{Median: 1.0, Min: 0.8, Max: 1.2, N: 3}) {
		t.Fatalf("got %+v", s)
	}
	if s := spreadOf([]float64{1, 2, 3, 4}); s.Median != 2.5 {
		t.Fatalf("median of 1..4 = %v", s.Median)
	}
	if s := spreadOf([]float64{math.NaN()}); s.N != 0 {
		t.Fatalf("no valid values: %+v", s)
	}
}

func TestRowsRatiosAndGoals(t *testing.T) {
	runs := []pairRun{
		{Pgbench: sample{TPS: 100, CPUPerOpUs: 100}, Authbench: sample{TPS: 110, CPUPerOpUs: 90}},
		{Pgbench: sample{TPS: 100, CPUPerOpUs: 100}, Authbench: sample{TPS: 90, CPUPerOpUs: 120}},
		{Pgbench: sample{TPS: 100, CPUPerOpUs: 100}, Authbench: sample{TPS: 105, CPUPerOpUs: 105}},
	}
	rows := rowsOf("throughput", "cert", runs, throughputMeasures)
	tps, cpu := rows[0], rows[1]
	if tps.Ratio != (spread{Median: 1.05, Min: 0.9, Max: 1.1, N: 3}) || !*tps.Met || tps.Goal != ">= 1.0" {
		t.Fatalf("TPS row %+v", tps)
	}
	if cpu.Ratio.Median != 1.05 || *cpu.Met || cpu.Authbench != 105 || cpu.Pgbench != 100 {
		t.Fatalf("CPU row %+v", cpu)
	}
	md := (&Report{Rows: rows, Started: time.Unix(0, 0), Ended: time.Unix(60, 0)}).Markdown()
	for _, want := range []string{"| throughput | bank TPS | cert | 100.0 | 105.0 | 1.05 | 0.90–1.10 | ≥ 1.0 | yes |", "| ≤ 1.0 | **no** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestTransferScriptIsTheBankTransfer: the five-round-trip pgbench script
// runs the bank workload's pipelined statements one by one, with pgbench
// variables for the parameters.
func TestTransferScriptIsTheBankTransfer(t *testing.T) {
	params := [][]string{
		{"$1", "gen_random_uuid()", "$2", ":runid", "$3", ":src", "$4", ":dst", "$5", ":amount"}, // record
		{"$1", ":src", "$2", ":amount"}, // debit
		{"$1", ":dst", "$2", ":amount"}, // credit
	}
	for i, st := range bank.TransferStatements(workloads.StylePipelined) {
		want := strings.NewReplacer(params[i]...).Replace(st.SQL) + ";"
		if !strings.Contains(transferScript, want) {
			t.Errorf("the pgbench script lacks %q", want)
		}
	}
	if !strings.Contains(transferScript, "BEGIN;\n") || !strings.HasSuffix(transferScript, "END;\n") {
		t.Error("the script must run the statements in one transaction")
	}
}

// TestShapeScriptsSendTheWorkloadsStatements: every style's pgbench script
// holds each of the style's statements with pgbench's values for its
// parameters and no $n left, in the round trips authbench takes: a
// statement per line outside a pipeline is one round trip.
func TestShapeScriptsSendTheWorkloadsStatements(t *testing.T) {
	for _, style := range styles {
		script, err := shapeScript(style)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range bank.TransferStatements(style) {
			if sql := pgbenchSQL(st); !strings.Contains(script, sql) || strings.Contains(sql, "$") {
				t.Errorf("%s: the script lacks %q or keeps a $ parameter", style, sql)
			}
		}
		if got := scriptRoundTrips(script); got != shapeRoundTrips[style] {
			t.Errorf("%s: the script takes %d round trips, authbench %d:\n%s", style, got, shapeRoundTrips[style], script)
		}
	}
	if _, err := shapeScript("orm"); err == nil {
		t.Error("an unknown style must be an error")
	}
	app, _ := shapeScript(workloads.StyleApp)
	for _, want := range []string{"WHERE accounts.id = :src \\gset\n\\if :balance >= :amount\n\\set new_balance :balance - :amount\n", "ROLLBACK;\n\\endif\n"} {
		if !strings.Contains(app, want) {
			t.Errorf("app script lacks %q:\n%s", want, app)
		}
	}
}

// scriptRoundTrips counts a pgbench script's round trips on the committed
// path: each SQL command is one, a pipeline is one, ROLLBACK on the
// insufficient-funds branch is not taken.
func scriptRoundTrips(script string) int {
	n, inPipeline := 0, false
	for _, line := range strings.Split(script, "\n") {
		switch {
		case line == "\\startpipeline":
			inPipeline = true
			n++
		case line == "\\endpipeline":
			inPipeline = false
		case line == "ROLLBACK;":
		case strings.HasSuffix(line, ";") || strings.HasSuffix(line, "\\gset"):
			if !inPipeline {
				n++
			}
		}
	}
	return n
}

func TestTransferArgs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients, cfg.Threads, cfg.Duration = 8, 2, 15*time.Second
	args := strings.Join(transferArgs("t.sql", &cfg, 30, 0, ""), " ")
	for _, want := range []string{"-M prepared", "-c 8 -j 2", "-T 15", "--max-tries=31", "-D naccounts=10000"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if strings.Contains(args, "-R") {
		t.Error("a closed loop has no -R")
	}
	args = strings.Join(transferArgs("t.sql", &cfg, 30, 812.5, "/tmp/x/log"), " ")
	if !strings.Contains(args, "-R 812.5 -l --log-prefix /tmp/x/log") {
		t.Errorf("open-loop args %q", args)
	}
	if got := strings.Join(handshakeArgs("s.sql", &cfg), " "); !strings.Contains(got, "-C -f s.sql -c 8 -j 8 -T 10") {
		t.Errorf("handshake args %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Authbench, ok.OutDir = "/bin/authbench", "out"
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Reps = 0 },
		func(c *Config) { c.Modes = []string{"gssapi"} },
		func(c *Config) { c.HandshakeModes = []string{"vault"} },
		func(c *Config) { c.Sections = []string{"openloop"} },
		func(c *Config) { c.Sections = []string{"latency"} },
		func(c *Config) { c.RateFraction = 0 },
		func(c *Config) { c.Authbench = "" },
		func(c *Config) { c.Sections = []string{"floor"} }, // no floorclient binary
		func(c *Config) {
			c.Sections, c.Floorclient, c.FloorClients = []string{"floor"}, "/bin/fc", []string{"libpq"}
		},
		func(c *Config) {
			c.Sections, c.Floorclient, c.FloorStyles = []string{"floor"}, "/bin/fc", []string{"orm"}
		},
		func(c *Config) { c.Sections, c.Floorclient, c.FloorEnvs = []string{"floor"}, "/bin/fc", nil },
	}
	for i, mut := range bad {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	c := ok
	c.Sections, c.Rate = []string{"openloop"}, 500
	if err := c.Validate(); err != nil {
		t.Errorf("open loop with --rate: %v", err)
	}
	c = ok
	c.Sections, c.FloorClients = []string{"floor"}, []string{"authbench"}
	if err := c.Validate(); err != nil {
		t.Errorf("floor of authbench alone needs no floorclient: %v", err)
	}
}
