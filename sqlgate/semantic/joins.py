"""The join graph: which cube joins which, and the shortest path between two cubes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from sqlgate.semantic.definitions import Cube, Join


class JoinGraph:
    """Directed graph of declared joins (an edge goes from the cube that declares the join).

    Paths follow joins only in the declared direction, as Cube does: ``orders`` declaring
    ``users: many_to_one`` lets a query rooted at ``orders`` reach ``users``, not the other way round.
    """

    def __init__(self, cubes: Mapping[str, Cube]) -> None:
        self._edges: dict[str, list[Join]] = {name: list(cube.joins.values()) for name, cube in cubes.items()}
        self._paths: dict[tuple[str, str], tuple[Join, ...] | None] = {}

    def edge(self, source: str, target: str) -> Join | None:
        """The join ``source`` declares towards ``target``, if any."""
        for join in self._edges.get(source, ()):
            if join.target == target:
                return join
        return None

    def neighbours(self, cube: str) -> list[Join]:
        return list(self._edges.get(cube, ()))

    def path(self, source: str, target: str) -> tuple[Join, ...] | None:
        """The shortest chain of joins from ``source`` to ``target`` (declaration order breaks ties)."""
        key = (source, target)
        if key in self._paths:
            return self._paths[key]
        result: tuple[Join, ...] | None = None
        if source == target:
            result = ()
        else:
            previous: dict[str, Join] = {}
            seen = {source}
            queue = deque([source])
            while queue and result is None:
                current = queue.popleft()
                for join in self._edges.get(current, ()):
                    if join.target in seen:
                        continue
                    seen.add(join.target)
                    previous[join.target] = join
                    if join.target == target:
                        chain: list[Join] = []
                        node = target
                        while node != source:
                            step = previous[node]
                            chain.append(step)
                            node = step.source
                        result = tuple(reversed(chain))
                        break
                    queue.append(join.target)
        self._paths[key] = result
        return result

    def tree(self, root: str, cubes: Iterable[str]) -> list[Join] | None:
        """Joins connecting ``root`` to every cube in ``cubes`` (a tree, parents before children).

        None when some cube cannot be reached from ``root``.
        """
        joins: list[Join] = []
        reached = {root}
        for cube in cubes:
            if cube in reached:
                continue
            path = self.path(root, cube)
            if path is None:
                return None
            for join in path:
                if join.target not in reached:
                    reached.add(join.target)
                    joins.append(join)
        return joins

    def find_tree(self, cubes: list[str]) -> tuple[str, list[Join]] | None:
        """A root among ``cubes`` (the first that works, in order) and the joins reaching the others."""
        for root in cubes:
            joins = self.tree(root, cubes)
            if joins is not None:
                return root, joins
        return None
