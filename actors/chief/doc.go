// Package chief is Thunderchief (seed 004 §5): router config versions,
// the cadence, and the backpressure ladder of seed 004 §9. This file set
// holds the ladder; it imports only the standard library (and may import
// thunderline/hotpath/*), never the engine or another actor, never reads the
// wall clock, and never runs on the hot path: the cadence calls it once per
// interval.
//
// # The ladder
//
// Ladder is a pure, deterministic state machine: the same Samples give the
// same Decisions, Events and Counters. Its step is 0..6, with the numbers and
// names of eye.Ladder / eye.LadderStepName:
//
//	step  name           action added (each step keeps the actions below it)
//	0     normal         none
//	1     widen window   market windows ×WidenFactor (1.5; EDGAR untouched)
//	2     no overlap     window overlap 0%
//	3     lower p        every layer's p_threshold −PStep (0.05), floor MinP
//	4     coarse recipe  coarse feature recipe (reduced metrics set)
//	5     core features  enrichment dropped, core price/volume kept
//	6     force abstain  abstain forced for high-latency experts
//
// Steps 0-5 are the lag-driven path (LagStep); step 6 is an overlay driven by
// risk breaches alone (below).
//
// # Conditions
//
// From each Sample the ladder evaluates the seed's three conditions:
//
//	1  lag_p95 > LagFactor (2) × target window
//	2  backlog > BacklogFactor (5) × concurrency
//	3  experts per token > planned + ExpertsSlack (0.3)
//
// An interval is degraded when any of them holds and healthy when none does
// (lag ≤ 2×target, backlog ≤ 5×concurrency, experts/token ≤ planned + 0.3).
//
// # Climbing: fast
//
// In a degraded interval the healthy count is reset and the degraded count
// of the current step goes up by one. First, the actions already in force
// tighten, as the seed's rules 1 and 3 apply in every interval their
// condition holds: at step ≥ 1 with condition 1 true, the window is widened
// again (at most MaxWiden widenings in force: factor ≤ 1.5² = 2.25 by
// default); at step ≥ 3 with condition 3 true, p is cut again by PStep
// (never more cuts than can matter: ceil((1−MinP)/PStep)). Then, once the
// degraded count reaches UpAfter (1), the lag-driven step climbs exactly one
// step and the count restarts; at step 5 it stays. Entering step 1 applies
// the first widening, entering step 3 the first cut.
//
// The ladder is cumulative, so any degraded interval climbs it, whichever
// condition holds: a 10× burst with high lag and backlog walks 1→2→3→4→5
// in five intervals. The Reason names the step's own condition when it holds
// (lag for 1, backlog for 2, experts per token for 3), and otherwise says
// "still degraded" and names the conditions that do (always for 4 and 5).
//
// # Descending: slow (the hysteresis)
//
// In a healthy interval the degraded count is reset and, above step 0, the
// healthy count goes up by one. When it reaches DownAfter (3) the lag-driven
// step goes down exactly one step, releasing that step's action (leaving
// step 3 removes every p cut, leaving step 1 every widening), and the count
// restarts: each step down needs DownAfter fresh consecutive healthy
// intervals. A degraded interval resets the healthy count, so a single noisy
// healthy interval inside a burst never moves the ladder down, and the
// ladder cannot oscillate faster than one step down per DownAfter intervals.
//
// # Step 6 and how it combines
//
// Step 6 is in force exactly while the sample's BreachIntervals is at least
// AbstainBreaches (3), whatever the lag path does. While it is, Step reports
// 6, Actions are the lag-driven step's actions plus ForceAbstainHighLatency,
// and the lag path keeps evaluating its conditions underneath (LagStep moves
// as it would without breaches). When BreachIntervals drops below 3, Step
// returns at once to LagStep. So Step moves by at most one per interval,
// except on entering or leaving step 6, which may jump (e.g. 2→6, 6→2). Risk
// breaches do not widen windows or coarsen features: the overlay adds only
// the abstain.
//
// # Invalid samples
//
// A sample that fails Sample.Validate is counted (Counters.Invalid), its
// error is in Decision.Err and Reason, and the ladder holds: step, breach
// overlay and actions stay; the healthy count is reset (an unmeasured
// interval is not healthy) and the degraded count is kept.
//
// # What the engine measures per interval
//
//	LagP95                  95th percentile over the interval of (wall clock −
//	                        newest processed event time) on the market path
//	TargetWindow            the profile's market window length (not the widened one)
//	Backlog                 items waiting in the partition and decision rings at the end
//	Concurrency             the workers draining them (partition loops)
//	ExpertsPerToken         mean experts activated per routed token (all layers);
//	                        PlannedExpertsPerToken when nothing was routed
//	PlannedExpertsPerToken  what the router config plans per token
//	BreachIntervals         consecutive intervals, this one included, with a risk breach
//
// # Outputs
//
// Observe returns a Decision: Step, Prev, LagStep, PrevLag, Changed, Name,
// Reason and the cumulative Actions, which the engine applies for the next
// interval (Actions.P maps each layer's configured p to the one in use).
// Each change (of Step or of LagStep) is an Event, passed to Config.OnChange
// and available as Decision.Event, for the risk / ladder topic. Counters
// holds the totals for thunderline_ladder_* metrics: intervals at each step,
// transitions up and down by step entered, widenings, p cuts, invalid
// samples.
package chief
