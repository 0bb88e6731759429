package eye

// enumNames are the names of a small enum's values (Role, ExpertOp),
// indexed by value; "" is a value without a name.
type enumNames []string

// name is v's name, or fallback when v has none.
func (n enumNames) name(v uint8, fallback string) string {
	if int(v) < len(n) && n[v] != "" {
		return n[v]
	}
	return fallback
}

// parse returns the value named s.
func (n enumNames) parse(s string) (uint8, bool) {
	for v, name := range n {
		if name != "" && name == s {
			return uint8(v), true
		}
	}
	return 0, false
}
