// Package archtest holds the tests that keep the module's package
// dependencies in the shape the design says; it has no code of its own.
package archtest
