"""Pure decision rules: state + event -> accepted or refused."""
