"""Visualisation (可视化): computational-graph rendering; plots use matplotlib."""

from .graph import build_graph, has_graphviz, render, to_dot
