"""Features, one folder each: resident dialogs, staff views and the feature's rules."""
