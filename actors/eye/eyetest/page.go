package eyetest

import (
	"context"
	"time"
)

// Page is one tab of a Browser, for a test: each method fails the test
// when its step does not work, naming the step, with the page's JavaScript
// exceptions, its console errors and the tail of Chromium's stderr.
type Page struct {
	b       *Browser
	ctx     context.Context
	session string
}

// Open opens a tab with a width × height viewport, navigates it to url and
// waits for the page to load. ctx bounds every step of the page.
func (b *Browser) Open(ctx context.Context, url string, width, height int) *Page {
	b.t.Helper()
	p := &Page{b: b, ctx: ctx}
	var err error
	if p.session, err = b.NewPage(ctx); err != nil {
		p.Fail("open a tab", err)
	}
	if err := b.Call(ctx, p.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height,
		"deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		p.Fail("viewport", err)
	}
	loaded := b.Expect(p.session, "Page.loadEventFired")
	if err := b.Call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		p.Fail("navigate", err)
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		p.Fail("load "+url, ctx.Err())
	}
	return p
}

// Fail fails the test: what did not work, why, and what the browser said.
func (p *Page) Fail(what string, err error) {
	p.b.t.Helper()
	p.b.t.Fatalf("%s: %v\nexceptions: %v\nconsole: %v\nchromium stderr (tail):\n%s", what, err, p.b.Exceptions(),
		p.b.Console(), p.b.Stderr())
}

// Eval evaluates a JavaScript expression in the page, awaiting a promise,
// and decodes its value into out (if not nil); what names the step.
func (p *Page) Eval(what, expr string, out any) {
	p.b.t.Helper()
	if err := p.b.Eval(p.ctx, p.session, expr, out); err != nil {
		p.Fail(what, err)
	}
}

// Wait waits until cond, a JavaScript expression, is truthy, checked on
// every DOM change, for at most timeout; what names what it waits for.
func (p *Page) Wait(what, cond string, timeout time.Duration) {
	p.b.t.Helper()
	p.Eval(what, WaitJS(cond, timeout), nil)
}

// Screenshot captures the whole page, width CSS pixels wide, as PNG.
func (p *Page) Screenshot(width int) []byte {
	p.b.t.Helper()
	img, err := p.b.Screenshot(p.ctx, p.session, width)
	if err != nil {
		p.Fail("screenshot", err)
	}
	return img
}

// CheckClean flags (without stopping the test) the JavaScript exceptions
// the page threw and the console errors it logged so far.
func (p *Page) CheckClean() {
	p.b.t.Helper()
	if ex := p.b.Exceptions(); len(ex) > 0 {
		p.b.t.Errorf("JavaScript exceptions: %v", ex)
	}
	if c := p.b.Console(); len(c) > 0 {
		p.b.t.Errorf("console errors: %v", c)
	}
}
