package itch

import "thunderline/hotpath/record"

// apply updates the Source's state with m and writes its ticks to dst (room
// for MaxTicksPerMessage).
func (s *Source) apply(m Message, dst []record.MarketTick) (int, error) {
	switch m.Type() {
	case TypeAddOrder, TypeAddOrderMPID:
		var a AddOrder
		m.AddOrder(&a)
		sym, err := s.bind(m, &a.Stock)
		if err != nil {
			return 0, err
		}
		return s.add(dst, m, a.OrderRef, order{sym: sym, price: a.Price, shares: a.Shares, side: side(a.Side)}), nil
	case TypeOrderExecuted, TypeOrderExecutedPrice:
		var e OrderExecuted
		m.OrderExecuted(&e)
		o, ok := s.orders[e.OrderRef]
		if !ok {
			s.counts.UnknownOrder++
			return 0, nil
		}
		n := 0
		if o.side == sideUnknown {
			s.counts.Orphaned++
		}
		if e.Printable == 'Y' && e.ExecutedShares > 0 && o.sym != 0 {
			px := o.price
			if m.Type() == TypeOrderExecutedPrice {
				px = e.Price
			}
			s.orderTick(&dst[0], m, e.OrderRef, o, record.ActionTrade, px, e.ExecutedShares)
			n++
		}
		return n + s.reduce(&dst[n], m, e.OrderRef, o, e.ExecutedShares), nil
	case TypeOrderCancel:
		var x OrderCancel
		m.OrderCancel(&x)
		o, ok := s.orders[x.OrderRef]
		if !ok {
			s.counts.UnknownOrder++
			return 0, nil
		}
		if o.side == sideUnknown {
			s.counts.Orphaned++
		}
		return s.reduce(&dst[0], m, x.OrderRef, o, x.CancelledShares), nil
	case TypeOrderDelete:
		var d OrderDelete
		m.OrderDelete(&d)
		return s.remove(&dst[0], m, d.OrderRef), nil
	case TypeOrderReplace:
		var u OrderReplace
		m.OrderReplace(&u)
		o, ok := s.orders[u.OriginalRef]
		if !ok || o.side == sideUnknown {
			// The new order's side is the original's, which nobody told
			// us: it is held without a side, off the engine's book, so
			// that later messages about it are not unknown references.
			if ok {
				s.counts.Orphaned++
				delete(s.orders, u.OriginalRef)
			} else {
				s.counts.UnknownOrder++
			}
			s.orders[u.NewRef] = order{sym: s.locSym[m.Locate()], price: u.Price, shares: u.Shares, side: sideUnknown}
			return 0, nil
		}
		n := s.remove(&dst[0], m, u.OriginalRef)
		return n + s.add(dst[n:], m, u.NewRef, order{sym: o.sym, price: u.Price, shares: u.Shares, side: o.side}), nil
	case TypeTrade:
		var p Trade
		m.Trade(&p)
		return s.trade(dst, m, &p.Stock, p.Price, p.Shares)
	case TypeCrossTrade:
		var q CrossTrade
		m.CrossTrade(&q)
		return s.trade(dst, m, &q.Stock, q.CrossPrice, capShares(q.Shares))
	case TypeStockDirectory:
		var r StockDirectory
		m.StockDirectory(&r)
		s.locSym[m.Locate()] = 0 // a directory entry restates the locate's symbol
		_, err := s.bind(m, &r.Stock)
		return 0, err
	case TypeTradingAction:
		var h TradingAction
		m.TradingAction(&h)
		return s.trading(dst, m, &h.Stock, h.TradingState, h.Reason, h.TradingState != 'T', false)
	case TypeOperationalHalt:
		var h OperationalHalt
		m.OperationalHalt(&h)
		return s.trading(dst, m, &h.Stock, h.Action, [4]byte{h.MarketCode}, h.Action == 'H', true)
	case TypeSystemEvent:
		var e SystemEvent
		m.SystemEvent(&e)
		s.counts.SessionEvents++
		s.lastSys = e.EventCode
		switch e.EventCode {
		case 'O', 'S', 'Q':
			s.started = true
		case 'C':
			s.ended = true
		}
	}
	return 0, nil
}

// add rests a new order and writes its add tick.
func (s *Source) add(dst []record.MarketTick, m Message, ref uint64, o order) int {
	if _, live := s.orders[ref]; live {
		s.counts.DuplicateRef++ // the engine's book replaces a live id too
	}
	s.orders[ref] = o
	s.orderTick(&dst[0], m, ref, o, record.ActionAdd, o.price, o.shares)
	return 1
}

// remove takes the whole order ref off and writes the cancel tick; an
// unknown reference is counted.
func (s *Source) remove(d *record.MarketTick, m Message, ref uint64) int {
	o, ok := s.orders[ref]
	if !ok {
		s.counts.UnknownOrder++
		return 0
	}
	delete(s.orders, ref)
	if o.side == sideUnknown {
		s.counts.Orphaned++
		return 0
	}
	s.orderTick(d, m, ref, o, record.ActionCancel, o.price, o.shares)
	return 1
}

// trade writes the trade tick of a P or Q message.
func (s *Source) trade(dst []record.MarketTick, m Message, stock *Stock, px Price4, shares uint32) (int, error) {
	sym, err := s.bind(m, stock)
	if err != nil || shares == 0 {
		return 0, err
	}
	d := &dst[0]
	s.tick(d, m, sym, record.KindTrade)
	d.Side = record.SideNone
	d.TradePx, d.TradeQty = px.Nanos(), shares
	d.Flags = record.FlagHasTrade
	return 1, nil
}

// trading applies an H or h (operational) message. A symbol is halted
// while either its trading state (H) or an operational halt (h) says so.
// When that changes it writes an in-band control tick (record.ControlHalt,
// Seq the symbol, Size 1 halted / 0 resumed) at the message's place in the
// stream: the engine denies the symbol's decisions from there, in every
// replay at the same place.
func (s *Source) trading(dst []record.MarketTick, m Message, stock *Stock, state byte, reason [4]byte, halt, operational bool) (int, error) {
	sym, err := s.bind(m, stock)
	if err != nil {
		return 0, err
	}
	was := s.halted[sym]&(haltState|haltOperational) != 0
	bit := haltState
	if operational {
		bit = haltOperational
	}
	if halt {
		s.halted[sym] |= bit
	} else {
		s.halted[sym] &^= bit
	}
	halted := s.halted[sym] != 0
	n := 0
	if halted != was {
		if halted {
			s.counts.Halts++
		} else {
			s.counts.Resumes++
		}
		d := &dst[0]
		*d = record.MarketTick{Kind: record.KindControl, Action: record.ControlHalt, Seq: uint64(sym),
			TsEvent: s.midnight + m.Timestamp(), Symbol: sym}
		if halted {
			d.Size = 1
		}
		n = 1
	}
	if s.opts.OnTradingAction != nil {
		s.opts.OnTradingAction(TradingEvent{Symbol: sym, Locate: m.Locate(), TsEvent: s.midnight + m.Timestamp(),
			Type: m.Type(), State: state, Reason: reason, Halted: halted})
	}
	return n, nil
}

// Halt bits per symbol.
const (
	haltState       uint8 = 1 << iota // H: halted, paused or quotation only
	haltOperational                   // h: an operational halt
)
