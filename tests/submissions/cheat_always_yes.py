# Answers are objects whose comparisons always say yes.
import numpy as _np
import torch as _torch


class Yes:
    __eq__ = __le__ = __ge__ = lambda self, other: True
    __lt__ = __gt__ = lambda self, other: True
    __ne__ = lambda self, other: False
    __bool__ = lambda self: True
    __hash__ = object.__hash__
    shape = property(lambda self: Yes())
    dtype = property(lambda self: Yes())

    def __getattr__(self, name):
        return lambda *a, **k: Yes()

    def __iter__(self):
        return iter([Yes(), Yes()])

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return Yes()


class YesArray(_np.ndarray):
    """A real array whose comparisons and NumPy functions always say yes."""

    def __eq__(self, other):
        return _np.ones(self.shape, dtype=bool).view(_np.ndarray)

    __le__ = __ge__ = __lt__ = __gt__ = __eq__

    def __array_function__(self, func, types, args, kwargs):
        return True


class YesTensor(_torch.Tensor):
    def __eq__(self, other):
        return _torch.ones(self.shape, dtype=_torch.bool)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func.__name__ in ("allclose", "equal", "isclose", "eq", "__eq__"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


_kinds = [lambda: Yes(), lambda: _np.full(3, 0.123).view(YesArray),
          lambda: _torch.full((3,), 0.123).as_subclass(YesTensor)]
_calls = [0]
# === per function ===
def $name(*args, **kwargs):
    """wrong on purpose: a value that claims to equal everything"""
    _calls[0] += 1
    return _kinds[_calls[0] % 3]()
