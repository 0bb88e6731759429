package safetensors

import (
	"fmt"

	"thunderline/hotpath/expert"
)

// MLP weights in a safetensors file.
//
// An MLP named by prefix p is four float tensors (F32, F64, F16 or BF16)
// and optional metadata:
//
//	p.w1  shape [in, hidden]    row-major: element [i, j] weighs input i into hidden unit j
//	p.b1  shape [hidden]
//	p.w2  shape [hidden, out]   row-major: element [j, k] weighs hidden unit j into output k
//	p.b2  shape [out]
//	__metadata__ "p.activation": "relu" (default) or "tanh"
//	__metadata__ "p.role":       "head" or "hidden"; default "head" when out = 3, else "hidden"
//	__metadata__ "p.name":       the expert's name; default p
//
// so y = act(x @ w1 + b1) @ w2 + b2, exactly numpy's or PyTorch's x @ W with
// W stored as (in, out). A PyTorch nn.Linear stores weight as (out, in):
// save weight.T.contiguous() under p.w1 / p.w2.

// LoadMLP reads the MLP named prefix from the safetensors file at path
// with the default LoadOptions.
func LoadMLP(path, prefix string) (*expert.MLP, error) {
	return LoadMLPWith(path, prefix, LoadOptions{})
}

// LoadMLPWith reads the MLP named prefix from the safetensors file at path
// within the bounds of o.
func LoadMLPWith(path, prefix string, o LoadOptions) (*expert.MLP, error) {
	f, err := LoadWith(path, o)
	if err != nil {
		return nil, err
	}
	m, err := f.MLP(prefix)
	if err != nil {
		return nil, fmt.Errorf("load mlp %s: %w", path, err)
	}
	return m, nil
}

// MLP builds the MLP named prefix from f (see LoadMLP for the layout).
func (f *File) MLP(prefix string) (*expert.MLP, error) {
	// get reads one tensor of the given rank; after a failure it reads
	// nothing more and err holds the first error.
	var err error
	get := func(suffix string, rank int) ([]float32, []int) {
		if err != nil {
			return nil, nil
		}
		name := prefix + "." + suffix
		v, shape, terr := f.Tensor(name)
		if terr == nil && len(shape) != rank {
			terr = errf(ErrTensor, name, "shape %v: want %d dimensions", shape, rank)
		}
		err = terr
		return v, shape
	}
	w1, s1 := get("w1", 2)
	b1, sb1 := get("b1", 1)
	w2, s2 := get("w2", 2)
	b2, sb2 := get("b2", 1)
	if err != nil {
		return nil, err
	}
	in, hidden, out := s1[0], s1[1], s2[1]
	switch {
	case sb1[0] != hidden:
		return nil, errf(ErrTensor, prefix+".b1", "shape %v: want [%d] (hidden, from %s.w1)", sb1, hidden, prefix)
	case s2[0] != hidden:
		return nil, errf(ErrTensor, prefix+".w2", "shape %v: want [%d, out] (hidden, from %s.w1)", s2, hidden, prefix)
	case sb2[0] != out:
		return nil, errf(ErrTensor, prefix+".b2", "shape %v: want [%d] (out, from %s.w2)", sb2, out, prefix)
	}
	md := f.metadata
	act := expert.ReLU
	if s, ok := md[prefix+".activation"]; ok {
		if act, err = expert.ParseActivation(s); err != nil {
			return nil, fmt.Errorf("safetensors: metadata %s.activation: %w", prefix, err)
		}
	}
	head := out == expert.NumActions
	if s, ok := md[prefix+".role"]; ok {
		switch s {
		case "head":
			head = true
		case "hidden":
			head = false
		default:
			return nil, fmt.Errorf("safetensors: metadata %s.role: %q: want head or hidden", prefix, s)
		}
	}
	name := prefix
	if s, ok := md[prefix+".name"]; ok && s != "" {
		name = s
	}
	return expert.NewMLP(expert.MLPConfig{
		Name: name, In: in, Hidden: hidden, Out: out, Activation: act, Head: head,
		W1: w1, B1: b1, W2: w2, B2: b2,
	})
}

// MLPTensors is the inverse of File.MLP: the tensors and metadata that
// store cfg under prefix (as F32), for Write.
func MLPTensors(prefix string, cfg expert.MLPConfig) ([]Tensor, map[string]string) {
	act := cfg.Activation
	if act == 0 {
		act = expert.ReLU
	}
	role := "hidden"
	if cfg.Head {
		role = "head"
	}
	return []Tensor{
			{Name: prefix + ".w1", Shape: []int{cfg.In, cfg.Hidden}, Data: cfg.W1},
			{Name: prefix + ".b1", Shape: []int{cfg.Hidden}, Data: cfg.B1},
			{Name: prefix + ".w2", Shape: []int{cfg.Hidden, cfg.Out}, Data: cfg.W2},
			{Name: prefix + ".b2", Shape: []int{cfg.Out}, Data: cfg.B2},
		}, map[string]string{
			prefix + ".activation": act.String(),
			prefix + ".role":       role,
			prefix + ".name":       cfg.Name,
		}
}
