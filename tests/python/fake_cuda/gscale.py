import ember

@ember.vectorize(["float32(float32, float32)"], target="cuda")
def axpy(x, y):
    return 2.0 * x + y

@ember.kernel(["[2](float64[:, :], float64[:, :], float64)"], target="cuda", boundscheck=True)
def scale(out, a, v):
    i, j = ember.tid()
    out[i, j] = a[i, j] * v

@ember.vectorize(["float64(float64)"])
def square(x):
    return x * x


@ember.reduce("+", ["float64(float64)"], target="cuda")
def norm2(x):
    return x * x
