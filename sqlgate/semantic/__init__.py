"""The data model: Cube-style YAML files compiled into cubes, views, members, joins and segments."""
