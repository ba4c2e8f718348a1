"""Settings, validated and declared once; presets and TOML settings files."""
