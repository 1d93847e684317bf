"""The bureau's dashboards: daily snapshots of every figure, trends, drill-down lists, scorecards
and the monthly assessment report."""
