"""Reshape/Transpose chains as one lazy view, so that window partitions and unfolds cost one Transpose."""

from __future__ import annotations

from dataclasses import dataclass

Perm = tuple[int, ...]


@dataclass(frozen=True)
class View:
    """``logical = reshape(transpose(reshape(physical, atoms), order), logical dims)``.

    ``atoms``: the physical tensor cut into its smallest pieces (size-1 pieces dropped), in memory
    order; ``order[k]``: the physical atom that is logical atom ``k``; ``groups[i]``: how many
    consecutive logical atoms make logical dim ``i`` (0 for a size-1 dim). A chain of Reshapes and
    Transposes only rewrites these three tuples; a Transpose is written once, when an op needs it.
    """

    atoms: tuple[int, ...]
    order: Perm
    groups: tuple[int, ...]

    @staticmethod
    def of(phys_shape: tuple[int, ...], perm: Perm) -> View:
        """The view of ``transpose(physical, perm)``."""
        keep = [j for j, d in enumerate(phys_shape) if d != 1]
        index = {j: k for k, j in enumerate(keep)}
        order = tuple(index[perm[i]] for i in range(len(perm)) if perm[i] in index)
        groups = tuple(0 if phys_shape[perm[i]] == 1 else 1 for i in range(len(perm)))
        return View(tuple(phys_shape[j] for j in keep), order, groups)

    def logical_groups(self) -> list[list[int]]:
        """The physical atoms of each logical dim."""
        out, k = [], 0
        for n in self.groups:
            out.append(list(self.order[k:k + n]))
            k += n
        return out

    def shape(self) -> tuple[int, ...]:
        """The logical shape."""
        return tuple(_prod(self.atoms[a] for a in g) for g in self.logical_groups())

    def transpose(self, perm: Perm) -> View:
        groups = self.logical_groups()
        return View(self.atoms, tuple(a for i in perm for a in groups[i]), tuple(self.groups[i] for i in perm))

    def reshape(self, target: tuple[int, ...]) -> View | None:
        """The view after reshaping the logical tensor to ``target``; None when no common refinement exists."""
        pieces = _refine([self.atoms[a] for a in self.order], [d for d in target if d != 1])
        if pieces is None:
            return None
        # Split each physical atom into the pieces of the logical atom it holds (same order in both).
        split: dict[int, list[int]] = {self.order[k]: p for k, p in enumerate(pieces)}
        first: dict[int, int] = {}
        atoms: list[int] = []
        for a in range(len(self.atoms)):
            first[a] = len(atoms)
            atoms.extend(split[a])
        order = tuple(first[a] + i for a in self.order for i in range(len(split[a])))
        groups, k = [], 0
        flat = [s for p in pieces for s in p]
        for d in target:
            n, size = 0, 1
            while size < d:
                size *= flat[k + n]
                n += 1
            groups.append(n)
            k += n
        return View(tuple(atoms), order, tuple(groups))

    def as_perm(self) -> tuple[tuple[int, ...], Perm] | None:
        """(physical shape, perm) when every logical dim is a run of consecutive physical atoms."""
        groups = self.logical_groups()
        if any(g != list(range(g[0], g[0] + len(g))) for g in groups if g):
            return None
        keys, last = [], -1.0
        for i, g in enumerate(groups):
            if g:
                keys.append((float(g[0]), i))
                last = g[-1] + 0.5
            else:  # a size-1 dim sits right after the dim before it
                keys.append((last, i))
        phys_dims = sorted(range(len(groups)), key=lambda i: keys[i])
        position = {i: j for j, i in enumerate(phys_dims)}
        shape = self.shape()
        return tuple(shape[i] for i in phys_dims), tuple(position[i] for i in range(len(groups)))

    def channels_last(self) -> tuple[View, Perm] | None:
        """A view of the physical order nearest to memory and its perm, when that is channels-last.

        Logical dims are ordered by their first atom in memory; when the result moves logical dim 1
        last (NCHW held as NHWC), materializing it in that order costs the same one Transpose and
        spares the one a convolution would add.
        """
        groups = self.logical_groups()
        rank = len(groups)
        keys, last = [], -1.0
        for i, g in enumerate(groups):
            if g:
                keys.append((float(min(g)), i))
                last = max(g) + 0.5
            else:
                keys.append((last, i))
        phys_dims = sorted(range(rank), key=lambda i: keys[i])
        position = {i: j for j, i in enumerate(phys_dims)}
        perm = tuple(position[i] for i in range(rank))
        # Rank 3 is left out: [batch, channels, length] and [batch, features, tokens] look alike.
        if rank < 4 or perm != (0, rank - 1, *range(1, rank - 1)):
            return None
        order = tuple(a for i in phys_dims for a in groups[i])
        return View(self.atoms, order, tuple(len(groups[i]) for i in phys_dims)), perm

    def merged(self) -> tuple[tuple[int, ...], Perm]:
        """(physical shape, perm) of the single lowest-rank Transpose that materializes the view.

        Atoms that follow each other in both orders are merged, so a 6-D window partition becomes
        a 4-D Transpose (the wasm kernel only drops size-1 dims itself).
        """
        runs: list[list[int]] = []
        for a in self.order:
            if runs and runs[-1][-1] + 1 == a:
                runs[-1].append(a)
            else:
                runs.append([a])
        by_start = sorted(range(len(runs)), key=lambda r: runs[r][0])
        shape = tuple(_prod(self.atoms[a] for a in runs[r]) for r in by_start)
        position = {r: j for j, r in enumerate(by_start)}
        return shape, tuple(position[r] for r in range(len(runs)))


def low_rank_steps(shape: tuple[int, ...], perm: Perm, limit: int = 4) -> list[tuple[tuple[int, ...], Perm]]:
    """(Reshape to, Transpose by) steps equal to ``transpose(reshape(x, shape), perm)``, each of rank <= ``limit``.

    tfjs-wasm runs rank 5+ Transposes in a generic loop about 50x slower than its rank <= 4 kernels
    (MobileViT's 5-D unfold of a [1,32,32,64] map: 16 ms). Each step moves the next wanted block
    in front of the blocks before it: a 4-D (0, 2, 1, 3) Transpose.
    """
    steps: list[tuple[tuple[int, ...], Perm]] = []
    while True:
        shape, perm = View.of(shape, perm).merged()
        if len(perm) <= limit:
            if not all(p == i for i, p in enumerate(perm)):
                steps.append((shape, perm))
            return steps
        i = next(k for k, p in enumerate(perm) if p != k)
        j = perm[i]
        steps.append(((_prod(shape[:i]), _prod(shape[i:j]), shape[j], _prod(shape[j + 1:])), (0, 2, 1, 3)))
        moved = [*range(i), j, *range(i, j), *range(j + 1, len(shape))]
        position = {d: k for k, d in enumerate(moved)}
        shape, perm = tuple(shape[d] for d in moved), tuple(position[p] for p in perm)


def _prod(values: object) -> int:
    out = 1
    for v in values:  # type: ignore[attr-defined]
        out *= int(v)
    return out


def _refine(sizes: list[int], target: list[int]) -> list[list[int]] | None:
    """Split each of ``sizes`` into pieces so that ``target`` dims are runs of whole pieces."""
    out: list[list[int]] = [[] for _ in sizes]
    i, j = 0, 0
    a = sizes[0] if sizes else 1
    t = target[0] if target else 1
    while i < len(sizes) and j < len(target):
        if a == t:
            out[i].append(a)
            i, j = i + 1, j + 1
            a = sizes[i] if i < len(sizes) else 1
            t = target[j] if j < len(target) else 1
        elif t % a == 0:
            out[i].append(a)
            t //= a
            i += 1
            a = sizes[i] if i < len(sizes) else 1
        elif a % t == 0:
            out[i].append(t)
            a //= t
            j += 1
            t = target[j] if j < len(target) else 1
        else:
            return None
    return out if i == len(sizes) and j == len(target) else None


__all__ = ["View", "low_rank_steps", "reshape_target", "static_shape"]


def reshape_target(shape: tuple[int | None, ...] | None, value: object, size: int) -> tuple[int, ...] | None:
    """The static output shape of a Reshape: its known shape, else its Const target with one -1 resolved."""
    known = static_shape(shape)
    if known is not None or value is None:
        return known
    dims = [int(d) for d in value.reshape(-1)]  # type: ignore[attr-defined]
    rest = _prod(d for d in dims if d != -1)
    if dims.count(-1) > 1 or any(d < -1 for d in dims) or rest == 0 or (-1 in dims and size % rest):
        return None
    out = tuple(size // rest if d == -1 else d for d in dims)
    return out if _prod(out) == size else None


def static_shape(shape: tuple[int | None, ...] | None) -> tuple[int, ...] | None:
    """``shape`` when every dim is known."""
    if shape is None or any(d is None for d in shape):
        return None
    return tuple(int(d) for d in shape)  # type: ignore[arg-type]
