// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
