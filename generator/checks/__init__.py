"""Checks of values files and of the objects the chart renders from them.

Each module returns a list of Problem and never prints; generator/validate.py runs them in order.
"""
