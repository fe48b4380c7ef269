"""Signal receivers: accounts reacts to users' events without users importing accounts."""
