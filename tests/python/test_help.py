"""help() and inspect.signature() of decorated functions (issue 25): the
user's signature and docstring, then ember's summary, not the class's
constructor."""

import inspect
import pydoc

import ember


@ember.vectorize
def price(s, k, t):
    """A price from spot, strike and time."""
    return s * k + t


@ember.reduce("max")
def peak(x, y):
    return x - y


@ember.kernel
def copy(out, a):
    i = ember.tid()
    out[i] = a[i]


def _help(f):
    return pydoc.render_doc(f, renderer=pydoc.plaintext)


def test_help_shows_the_function_then_what_ember_made_of_it():
    for f, head, summary in [(price, "price(s, k, t)", "ember.vectorize: compiled"),
                             (peak, "peak(x, y)", "ember.reduce('max'): the function mapped"),
                             (copy, "copy(out, a)", "ember.kernel: runs once per index")]:
        text = _help(f)
        assert head in text and summary in text, text
        assert "Vectorized(py_func" not in text and "__init__" not in text, text
        assert f"test_help.py:{f.py_func.__code__.co_firstlineno}" in text.replace("\n    ", " ")
    assert "A price from spot, strike and time." in _help(price)


def test_signature_is_the_users():
    assert str(inspect.signature(price)) == "(s, k, t)"
    assert str(inspect.signature(copy)) == "(out, a)"
    assert price.__doc__.startswith("price(s, k, t)\n\nA price from spot")
