package router

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// vectors.json is written by testdata/reference.py, an independent NumPy
// implementation of doc.go (python3 testdata/reference.py --out
// testdata/vectors.json). Float32 values are the shortest decimals that
// round-trip, and encoding/json parses them into float32 with
// strconv.ParseFloat(s, 32), so the inputs arrive bit-exact.
type vectorFile struct {
	Format    int    `json:"format"`
	Numpy     string `json:"numpy"`
	Tolerance struct {
		ProbAbs float64 `json:"prob_abs"`
		GateAbs float64 `json:"gate_abs"`
		StatRel float64 `json:"stat_rel"`
	} `json:"tolerance"`
	Groups []vectorGroup `json:"groups"`
}

type vectorGroup struct {
	Name      string      `json:"name"`
	N         int         `json:"n"`
	Dim       int         `json:"dim"`
	Experts   int         `json:"experts"`
	Emb       []float32   `json:"emb"`
	EmbRef    string      `json:"emb_ref"`
	NonFinite [][3]any    `json:"nonfinite"` // [token, dim, "nan"|"inf"|"-inf"]
	Wg        []float32   `json:"wg"`
	Probs     [][]float32 `json:"probs"` // null row: invalid token
	Runs      []vectorRun `json:"runs"`
}

type vectorRun struct {
	Config struct {
		CapacityFactor     float64 `json:"capacity_factor"`
		P                  float64 `json:"p"`
		MaxExpertsPerToken int     `json:"max_experts_per_token"`
		Policy             string  `json:"policy"`
	} `json:"config"`
	K            int         `json:"k"`
	TokenExperts [][]int16   `json:"token_experts"`
	TokenGates   [][]float32 `json:"token_gates"`
	Status       []string    `json:"status"`
	ExpertTokens [][]int32   `json:"expert_tokens"`
	Stats        struct {
		AvgExpertsPerToken   float64    `json:"avg_experts_per_token"`
		LoadBalanceRatio     float64    `json:"load_balance_ratio"`
		CapacityUtilization  float64    `json:"capacity_utilization"`
		PSaturation          [10]uint32 `json:"p_saturation"`
		Entropy              float64    `json:"entropy"`
		Undercovered         int        `json:"undercovered"`
		UndercoveredAssigned int        `json:"undercovered_assigned"`
		Invalid              int        `json:"invalid"`
		MaxExpertLoad        int        `json:"max_expert_load"`
	} `json:"stats"`
}

// TestReferenceVectors routes every input of vectors.json and demands the
// NumPy reference's assignment exactly (token → experts and their order,
// expert → tokens, statuses, K and every count) and its probabilities, gate
// weights and float statistics within the file's tolerances (1e-6 absolute
// for probabilities and gates, 1e-9 relative for statistics). The spec fixes
// every floating-point operation except exp and log, so in practice the
// probabilities agree bit for bit; the test logs how many do.
func TestReferenceVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatalf("%v (regenerate: python3 testdata/reference.py --out testdata/vectors.json)", err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	if vf.Format != 1 || len(vf.Groups) == 0 {
		t.Fatalf("format %d with %d groups", vf.Format, len(vf.Groups))
	}
	tol := vf.Tolerance
	if tol.ProbAbs <= 0 || tol.ProbAbs > 1e-5 || tol.StatRel <= 0 || tol.StatRel > 1e-6 {
		t.Fatalf("tolerances %+v are missing or too loose", tol)
	}
	embs := map[string][]float32{}
	var runs, probsCompared, probsExact int
	var maxProbDiff, maxGateDiff float64
	for _, g := range vf.Groups {
		emb := g.Emb
		if g.EmbRef != "" {
			emb = embs[g.EmbRef]
		}
		if len(emb) != g.N*g.Dim {
			t.Fatalf("%s: %d embedding values for %d×%d", g.Name, len(emb), g.N, g.Dim)
		}
		emb = slices.Clone(emb)
		for _, nf := range g.NonFinite {
			tok, dim := int(nf[0].(float64)), int(nf[1].(float64))
			v := map[string]float64{"nan": math.NaN(), "inf": math.Inf(1), "-inf": math.Inf(-1)}[nf[2].(string)]
			emb[tok*g.Dim+dim] = float32(v)
		}
		embs[g.Name] = emb
		a := NewAssignment(g.N, g.Experts)
		for ri, vr := range g.Runs {
			runs++
			pol, err := ParsePolicy(vr.Config.Policy)
			if err != nil {
				t.Fatal(err)
			}
			cfg := LayerConfig{Layer: 1, Version: 7, Experts: g.Experts, CapacityFactor: vr.Config.CapacityFactor,
				P: vr.Config.P, MaxExpertsPerToken: vr.Config.MaxExpertsPerToken, Undercovered: pol}
			l, err := NewLayer(cfg, g.Dim, g.Wg)
			if err != nil {
				t.Fatalf("%s run %d: %v", g.Name, ri, err)
			}
			if err := l.Route(emb, g.N, a); err != nil {
				t.Fatalf("%s run %d: %v", g.Name, ri, err)
			}
			name := g.Name + "/" + vr.Config.Policy
			if a.K != vr.K {
				t.Fatalf("%s run %d: K %d, reference %d", name, ri, a.K, vr.K)
			}
			if ri == 0 {
				for i, row := range g.Probs {
					got := a.Probs[i*g.Experts : (i+1)*g.Experts]
					if row == nil {
						if !math.IsNaN(float64(got[0])) {
							t.Fatalf("%s token %d: reference says invalid, got probs %v", name, i, got)
						}
						continue
					}
					for e, want := range row {
						d := math.Abs(float64(got[e]) - float64(want))
						maxProbDiff = max(maxProbDiff, d)
						probsCompared++
						if got[e] == want {
							probsExact++
						}
						if !(d <= tol.ProbAbs) {
							t.Fatalf("%s prob[%d][%d] = %v, reference %v", name, i, e, got[e], want)
						}
					}
				}
			}
			for i := 0; i < g.N; i++ {
				ex, gates := a.TokenExperts(i)
				if !slices.Equal(ex, vr.TokenExperts[i]) || a.Status(i).String() != vr.Status[i] {
					t.Fatalf("%s run %d token %d: experts %v (%v), reference %v (%s)",
						name, ri, i, ex, a.Status(i), vr.TokenExperts[i], vr.Status[i])
				}
				for j, want := range vr.TokenGates[i] {
					d := math.Abs(float64(gates[j]) - float64(want))
					maxGateDiff = max(maxGateDiff, d)
					if !(d <= tol.GateAbs) {
						t.Fatalf("%s run %d token %d: gates %v, reference %v", name, ri, i, gates, vr.TokenGates[i])
					}
				}
			}
			for e := 0; e < g.Experts; e++ {
				if got := a.ExpertTokens(e); !slices.Equal(got, vr.ExpertTokens[e]) {
					t.Fatalf("%s run %d expert %d: tokens %v, reference %v", name, ri, e, got, vr.ExpertTokens[e])
				}
			}
			s, w := a.Stats, vr.Stats
			near := func(x, y float64) bool { return math.Abs(x-y) <= tol.StatRel*math.Max(1, math.Abs(y)) }
			if s.PSaturation != w.PSaturation || s.Undercovered != w.Undercovered ||
				s.UndercoveredAssigned != w.UndercoveredAssigned || s.Invalid != w.Invalid ||
				s.MaxExpertLoad != w.MaxExpertLoad || !near(s.AvgExpertsPerToken, w.AvgExpertsPerToken) ||
				!near(s.LoadBalanceRatio, w.LoadBalanceRatio) || !near(s.CapacityUtilization, w.CapacityUtilization) ||
				!near(s.Entropy, w.Entropy) {
				t.Fatalf("%s run %d: stats %+v, reference %+v", name, ri, s, w)
			}
		}
	}
	if runs < 40 {
		t.Fatalf("only %d runs in vectors.json", runs)
	}
	t.Logf("numpy %s: %d runs; probabilities %d/%d bit-identical, max |Δp| %.3g, max |Δgate| %.3g",
		vf.Numpy, runs, probsExact, probsCompared, maxProbDiff, maxGateDiff)
}
