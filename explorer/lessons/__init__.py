"""The six lessons' computations: what each picture draws and the numbers its caption states, from the same arrays."""
