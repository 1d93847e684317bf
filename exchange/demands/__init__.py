"""Demands (数据需求): the workflow from request to feedback, with suggested matches."""
