"""Mandelbrot set: an escape-time loop per pixel with @ember.kernel.

    PYTHONPATH=python python3 samples/mandelbrot.py [height]

One logical thread per pixel (`i, j = ember.tid()` over a 2-d domain); the
while loop runs a different number of times for every pixel, which is what
NumPy cannot express without masks over the whole image each iteration.
The result is checked against a NumPy version of the same iteration.
"""

import sys
import time

import numpy as np

import ember


@ember.kernel(fastmath=True)
def mandelbrot(img, xmin, ymin, dx, dy, max_iter):
    i, j = ember.tid()
    x0 = xmin + j * dx
    y0 = ymin + i * dy
    x, y, n = 0.0, 0.0, 0
    while x * x + y * y <= 4.0 and n < max_iter:
        x, y = x * x - y * y + x0, 2.0 * x * y + y0
        n += 1
    img[i, j] = n


def mandelbrot_numpy(h, w, xmin, ymin, dx, dy, max_iter):
    x0 = (xmin + np.arange(w) * dx)[None, :]
    y0 = (ymin + np.arange(h) * dy)[:, None]
    x = np.zeros((h, w))
    y = np.zeros((h, w))
    n = np.zeros((h, w), np.int32)
    for _ in range(max_iter):
        alive = x * x + y * y <= 4.0
        if not alive.any():
            break
        x, y = np.where(alive, x * x - y * y + x0, x), np.where(alive, 2.0 * x * y + y0, y)
        n += alive
    return n


def main(h=600, max_iter=100):
    w = h * 3 // 2
    args = (-2.0, -1.5, 3.0 / w, 3.0 / h, max_iter)
    img = np.zeros((h, w), np.int32)
    mandelbrot[img.shape](img, *args)  # compiles for these types
    t0 = time.perf_counter()
    mandelbrot[img.shape](img, *args)
    t_ember = time.perf_counter() - t0
    t0 = time.perf_counter()
    want = mandelbrot_numpy(h, w, *args)
    t_numpy = time.perf_counter() - t0
    # fastmath (contracted multiply-adds) may round a pixel near the boundary of
    # the set the other way; only those can differ.
    agree = np.mean(img == want)
    assert agree > 0.995, f"only {agree:.4%} of the pixels agree with NumPy"
    print(f"mandelbrot {h}x{w}, {max_iter} iterations: ember {t_ember * 1e3:.1f} ms, "
          f"NumPy {t_numpy * 1e3:.1f} ms ({t_numpy / t_ember:.0f}x); matches NumPy on "
          f"{agree:.4%} of the pixels")
    rows = img[:: max(1, h // 24), :: max(1, w // 72)]
    print("\n".join("".join(" .:-=+*#%@"[min(9, v * 10 // (max_iter + 1))] for v in row)
                    for row in rows))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 600)
