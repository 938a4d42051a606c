"""Toolsets learned by fnreg: one subpackage per agent."""
