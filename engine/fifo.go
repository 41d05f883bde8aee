package engine

// fifo is a first-in first-out ring of requests. It grows as needed and
// reuses its memory, so steady use allocates nothing.
type fifo struct {
	buf  []*request
	head int // index of the oldest element
	n    int // number of elements
}

func (f *fifo) len() int { return f.n }

func (f *fifo) push(r *request) {
	if f.n == len(f.buf) {
		grown := make([]*request, max(8, 2*len(f.buf)))
		for i := range f.n {
			grown[i] = f.buf[(f.head+i)%len(f.buf)]
		}
		f.buf, f.head = grown, 0
	}
	f.buf[(f.head+f.n)%len(f.buf)] = r
	f.n++
}

// peek returns the oldest element, or nil if there is none.
func (f *fifo) peek() *request {
	if f.n == 0 {
		return nil
	}
	return f.buf[f.head]
}

// pop removes and returns the oldest element, or nil if there is none.
func (f *fifo) pop() *request {
	if f.n == 0 {
		return nil
	}
	r := f.buf[f.head]
	f.buf[f.head] = nil
	f.head = (f.head + 1) % len(f.buf)
	f.n--
	return r
}

// removeFirst removes and returns the oldest element for which match is
// true, looking only as far as the elements for which skip is true: the
// first element that neither matches nor may be skipped ends the search.
// It returns nil if nothing was found. The order of the others is kept.
func (f *fifo) removeFirst(match, skip func(*request) bool) *request {
	for i := 0; i < f.n; i++ {
		r := f.buf[(f.head+i)%len(f.buf)]
		if !match(r) {
			if !skip(r) {
				return nil
			}
			continue
		}
		for j := i; j > 0; j-- { // close the gap from the head side
			f.buf[(f.head+j)%len(f.buf)] = f.buf[(f.head+j-1)%len(f.buf)]
		}
		f.buf[f.head] = nil
		f.head = (f.head + 1) % len(f.buf)
		f.n--
		return r
	}
	return nil
}
