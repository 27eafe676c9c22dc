// Package browsertest opens the HTML report in a real Chromium, as a user
// on a laptop would, and checks its layout through the DevTools protocol
// (chromedp): every table and chart stays inside its card, labels do not
// overlap, and the fault table is there. The report itself has no
// scripts; the checks run in the test's own evaluation. It is a module of
// its own so that chromedp stays out of the main go.mod.
package browsertest
