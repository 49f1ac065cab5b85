// placeholder: the data layer generates the dictionary here
export {};
