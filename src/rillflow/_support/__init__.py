"""Small helpers shared by several rillflow features; each module imports nothing from rillflow."""
