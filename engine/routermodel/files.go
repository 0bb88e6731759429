package routermodel

import (
	"fmt"

	"thunderline/adapters/safetensors"
	"thunderline/engine/config"
	"thunderline/hotpath/expert"
)

// loadWeights reads every tensor of a router weights file ("" = none).
func loadWeights(path string, o safetensors.LoadOptions) (weights, error) {
	if path == "" {
		return nil, nil
	}
	f, err := safetensors.LoadWith(path, o)
	if err != nil {
		return nil, fmt.Errorf("router.weights: %w", err)
	}
	w := weights{}
	for _, name := range f.Names() {
		v, _, err := f.Tensor(name)
		if err != nil {
			return nil, fmt.Errorf("router.weights %s: %w", path, err)
		}
		w[name] = v
	}
	return w, nil
}

// loadMLP loads a trained MLP expert and checks that it fits its layer.
func loadMLP(spec config.ExpertSpec, in, out int, last bool, o safetensors.LoadOptions) (expert.Expert, error) {
	prefix := spec.Prefix
	if prefix == "" {
		prefix = spec.Name
	}
	m, err := safetensors.LoadMLPWith(spec.Weights, prefix, o)
	if err != nil {
		return nil, err
	}
	if m.InDim() != in {
		return nil, fmt.Errorf("weights %s: the MLP reads %d inputs, the layer gives %d", spec.Weights, m.InDim(), in)
	}
	if last && m.OutDim() != 0 || !last && m.OutDim() != out {
		return nil, fmt.Errorf("weights %s: the MLP outputs %d values (0 = action head), the layer needs %d", spec.Weights, m.OutDim(), out)
	}
	return m, nil
}
