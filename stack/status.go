package stack

import "fmt"

// ComponentStatus is one server process of the stack.
type ComponentStatus struct {
	// Name is the process's name, e.g. "postgres" or "haproxy".
	Name string
	// PID is the process id from the pid file (0 when there is none).
	PID int
	// Address is where clients reach the component.
	Address string
	// Running says the process is alive.
	Running bool
	// Detail is what else the component shows, e.g. its connection limits.
	Detail string
}

// Status reports each server process of the stack in dir.
func Status(dir string) ([]ComponentStatus, error) {
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	return s.componentStatus(), nil
}

// String renders the status as one line, e.g. "postgres pid 42 127.0.0.1:5432 running".
func (c ComponentStatus) String() string {
	state := "stopped"
	if c.Running {
		state = "running"
	}
	return fmt.Sprintf("%s pid %d %s %s", c.Name, c.PID, c.Address, state)
}
