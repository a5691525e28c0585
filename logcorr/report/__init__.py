"""Reports: the terminal diagnosis, the JSON of the contract, the Excel workbook."""
