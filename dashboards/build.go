package dashboards

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Files returns every dashboard's file name and JSON, as committed.
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, b := range map[string]*board{
		"overview.json":   overview(),
		"auth-modes.json": authModes(),
		"rotation.json":   rotation(),
	} {
		d, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", name, err)
		}
		abovePanels(&d)
		data, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", name, err)
		}
		out[name] = append(data, '\n')
	}
	return out, nil
}

// abovePanels clears the placement the SDK gives every link and
// annotation by default ("inControlsMenu", which folds them into a menu in
// Grafana 12), so that they show above the panels as in every Grafana.
func abovePanels(d *dashboard.Dashboard) {
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
}

// datasource is the only data source a dashboard names: its variable.
var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// panelHeight is the grid height of every panel.
const panelHeight = 8

// Panel widths on Grafana's 24-column grid.
const (
	half = 12
	full = 24
)

// board is a dashboard under construction that numbers its panels.
type board struct {
	*dashboard.DashboardBuilder
	lastID uint32
}

// newBoard starts a dashboard with what all three share: the authbench
// tag and links, a 15-minute window refreshed every 5 s, a shared
// crosshair and the datasource, workload and auth_mode variables.
func newBoard(uid, title, description string) *board {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).Description(description).Tags([]string{"authbench"}).
		Editable().Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-15m", "now").Refresh("5s").Timezone("").Version(1).
		Link(dashboard.NewDashboardLinkBuilder("authbench").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"authbench"}).AsDropdown(false).IncludeVars(true).KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")).
		WithVariable(labelVariable("workload", "Workload", "label_values(authbench_ops_total, workload)")).
		WithVariable(labelVariable("auth_mode", "Auth mode", `label_values(authbench_ops_total{workload=~"$workload"}, auth_mode)`))
	return &board{DashboardBuilder: b}
}

// labelVariable is a multi-value variable over a label's values.
func labelVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).Label(label).Datasource(datasource).
		Query(dashboard.StringOrMap{Map: map[string]any{"query": query, "refId": name}}).
		Definition(query).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		IncludeAll(true).Multi(true).AllValue(".*").Sort(dashboard.VariableSortAlphabeticalAsc)
}

// nextID returns the next panel id.
func (b *board) nextID() uint32 {
	b.lastID++
	return b.lastID
}

// series adds a time-series panel of width w with one query per target.
func (b *board) series(title, description, unit string, w uint32, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Id(b.nextID()).Title(title).Description(description).
		Datasource(datasource).Unit(unit).Height(panelHeight).Span(w).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	for i, t := range targets {
		p.WithTarget(t.RefId(string(rune('A' + i))))
	}
	b.WithPanel(p)
	return p
}

// query is a Prometheus range query with a legend.
func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).Expr(expr).LegendFormat(legend).Range()
}

// sel is the label selector every query filters by: the workload and
// auth_mode variables, and any extra matchers.
func sel(extra ...string) string {
	s := `{workload=~"$workload",auth_mode=~"$auth_mode"`
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// rate is `sum by (by) (rate(metric{sel}[$__rate_interval]))`.
func rate(by, metric string, extra ...string) string {
	return fmt.Sprintf("sum by (%s) (rate(%s%s[$__rate_interval]))", by, metric, sel(extra...))
}

// quantile is histogram_quantile(q) of a histogram's rate, summed by le
// and the labels in by.
func quantile(q, by, metric string, extra ...string) string {
	return fmt.Sprintf("histogram_quantile(%s, %s)", q, rate("le, "+by, metric+"_bucket", extra...))
}

// increased is the expression of an annotation: the intervals in which a
// counter grew, summed by the labels in by.
func increased(by, metric string) string {
	return fmt.Sprintf("sum by (%s) (increase(%s%s[$__rate_interval])) > 0", by, metric, sel())
}

// annotation marks each point of expr on every panel.
func annotation(name, color, expr, title, text, tags string, on bool) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().Name(name).Datasource(datasource).
		Enable(on).Hide(false).IconColor(color).Expr(expr).Step("2s").
		TitleFormat(title).TextFormat(text).TagKeys(tags).UseValueForTime(false)
}
