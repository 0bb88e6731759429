package expert
import "testing"
var sinkf float64
func BenchmarkDetTanh(b *testing.B){ x:=0.3; for b.Loop(){ sinkf+=detTanh(x); x+=1e-9 } }
func BenchmarkDetExp(b *testing.B){ x:=0.3; for b.Loop(){ sinkf+=detExp(x); x+=1e-9 } }
