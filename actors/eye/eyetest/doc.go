// Package eyetest holds the test helpers of the admin server and its
// dashboard, shared by the eye package's own tests (against a fake backend)
// and the engine's (against a running engine): Serve runs an admin server
// for the length of a test, and Browser drives a headless Chromium over the
// DevTools protocol, with Page for one tab. Test helpers only: nothing but
// tests imports it, and it imports nothing of the project (the eye
// package's tests import it).
package eyetest
