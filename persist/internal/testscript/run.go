package testscript

import (
	"os"
	"os/exec"
	"strings"
)

// Run runs the script at path with args, env added to this process's
// environment. It returns the script's stdout, or when the script fails,
// its stdout and then its stderr.
func Run(path string, env []string, args ...string) (string, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}
