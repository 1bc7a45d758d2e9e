SELECT a,
  b, c FORM t