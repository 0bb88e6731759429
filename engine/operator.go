package engine

import (
	"encoding/json"
	"fmt"

	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
)

// Operator actions in band. Every action that changes decisions — the kill
// switch, the deny list, an expert's force/unforce/retire/restart, a drill's
// injected panic, and ladder step 6's forced abstentions — is decided on
// the control plane and goes through Operate: the reader places a control
// record at its place in the input, the journal records the action (an
// `operator` record) and the control there, and the decision stage applies
// it before the first batch ending after that boundary. A replay of the
// journal meets the same records at the same places and applies the same
// actions to the same batches, so its traces are identical.

// opRecord is an operator action as the journal holds it (JSON).
type opRecord struct {
	ID     uint64 `json:"id"`
	Kind   string `json:"kind"`
	Tenant string `json:"tenant,omitempty"`
	Symbol string `json:"symbol,omitempty"`
	Layer  int    `json:"layer,omitempty"`
	Expert string `json:"expert,omitempty"`
}

func encodeOp(op decide.Op) ([]byte, error) {
	return json.Marshal(opRecord{ID: op.ID, Kind: op.Kind.String(), Tenant: op.Tenant, Symbol: op.Symbol, Layer: op.Layer, Expert: op.Expert})
}

func decodeOp(b []byte) (decide.Op, error) {
	var r opRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return decide.Op{}, fmt.Errorf("operator record: %w", err)
	}
	k, err := decide.ParseOpKind(r.Kind)
	if err != nil {
		return decide.Op{}, fmt.Errorf("operator record: %w", err)
	}
	op := decide.Op{ID: r.ID, Kind: k, Tenant: r.Tenant, Symbol: r.Symbol, Layer: r.Layer, Expert: r.Expert}
	if op.ID == 0 {
		return op, fmt.Errorf("operator record: no id")
	}
	return op, op.Validate()
}

// Operate schedules an operator action in band (see above). It returns
// once the action is queued for the reader; it applies at the next input
// position the reader reaches. Safe from any goroutine.
func (p *Pipeline) Operate(op decide.Op) error {
	_, err := p.operate(op)
	return err
}

// operate is Operate, returning the action's id.
func (p *Pipeline) operate(op decide.Op) (uint64, error) {
	if p.stage == nil {
		return 0, fmt.Errorf("operator: the decision stage is disabled in this run's profile")
	}
	if err := op.Validate(); err != nil {
		return 0, err
	}
	p.opMu.Lock()
	defer p.opMu.Unlock()
	op.ID = p.opSeq + 1
	p.ops.Store(op.ID, op)
	if err := p.sendControl(record.MarketTick{Kind: record.KindControl, Action: record.ControlOperator, Seq: op.ID}); err != nil {
		p.ops.Delete(op.ID)
		return 0, fmt.Errorf("operator %s: %w", op.Kind, err)
	}
	p.opSeq = op.ID
	p.opsSent.Add(1)
	return op.ID, nil
}

// AddOperator makes a journaled operator action known (a journal replay
// reads them from runjournal.RecOperator records).
func (p *Pipeline) AddOperator(op decide.Op) { p.ops.Store(op.ID, op) }

// operatorJSON returns an action as the journal records it.
func (p *Pipeline) operatorJSON(id uint64) ([]byte, error) {
	v, ok := p.ops.Load(id)
	if !ok {
		return nil, fmt.Errorf("journal: operator action %d unknown", id)
	}
	return encodeOp(v.(decide.Op))
}

// applyOperator schedules a control record's action in the stage (the
// dispatcher's control hook, on the reader's goroutine).
func (p *Pipeline) applyOperator(id uint64, boundary int64) {
	v, ok := p.ops.Load(id)
	if !ok {
		p.controlErrs.Add(1)
		return
	}
	if err := p.stage.ScheduleOp(boundary, v.(decide.Op)); err != nil {
		p.controlErrs.Add(1)
	}
}
